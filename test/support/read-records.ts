import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { listAllShards } from './streams.js';

/** A Kinesis record as GetRecords returns it, with the shard it was read from. */
export interface StoredRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /**
   * Raw bytes as stored: a KPL aggregate is not unpacked here. GetRecords never returns the
   * ExplicitHashKey a record was put with; an aggregate carries its sub-records' keys inside.
   */
  readonly data: Uint8Array;
}

const MAX_PAGES_PER_SHARD = 10_000;

/**
 * Reads every record of every shard, closed parent shards of a reshard included, from
 * TRIM_HORIZON until the shard is caught up (an empty page at MillisBehindLatest 0) or ends (no
 * next iterator). Records are grouped by shard in ListShards order, in sequence order within a
 * shard.
 */
export async function readAllRecords(client: KinesisClient, streamName: string): Promise<StoredRecord[]> {
  const shards = await listAllShards(client, streamName);
  const perShard = await Promise.all(
    shards.map((shard) => readShard(client, streamName, shard.ShardId ?? '')),
  );
  return perShard.flat();
}

/** {@link readAllRecords}, as a map from shard ID to that shard's records in sequence order. */
export async function readRecordsByShard(
  client: KinesisClient,
  streamName: string,
): Promise<Map<string, StoredRecord[]>> {
  const byShard = new Map<string, StoredRecord[]>();
  for (const shard of await listAllShards(client, streamName)) byShard.set(shard.ShardId ?? '', []);
  for (const record of await readAllRecords(client, streamName)) byShard.get(record.shardId)?.push(record);
  return byShard;
}

async function readShard(client: KinesisClient, streamName: string, shardId: string): Promise<StoredRecord[]> {
  const records: StoredRecord[] = [];
  const start = await client.send(
    new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  let iterator = start.ShardIterator;
  for (let page = 0; iterator !== undefined; page++) {
    if (page === MAX_PAGES_PER_SHARD) {
      throw new Error(`shard ${shardId} of ${streamName} did not catch up within ${MAX_PAGES_PER_SHARD} GetRecords pages`);
    }
    const result = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
    const got = result.Records ?? [];
    for (const record of got) {
      records.push({
        shardId,
        sequenceNumber: record.SequenceNumber ?? '',
        partitionKey: record.PartitionKey ?? '',
        data: record.Data ?? new Uint8Array(0),
      });
    }
    if (got.length === 0 && (result.MillisBehindLatest ?? 0) === 0) break;
    iterator = result.NextShardIterator;
  }
  return records;
}
