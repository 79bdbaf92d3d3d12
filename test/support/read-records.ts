import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { deaggregate } from '../../src/format/deaggregate.js';
import { referenceHashKey } from './records.js';
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
  const perShard = await Promise.all(shards.map((shard) => readShard(client, streamName, shard.ShardId ?? '')));
  return perShard.flat();
}

/** {@link readAllRecords}, as a map from shard ID to that shard's records in sequence order. */
export async function readRecordsByShard(client: KinesisClient, streamName: string): Promise<Map<string, StoredRecord[]>> {
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

/** A user record as a reader that follows the KCL's rules finds it. */
export interface KclRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Its index in the aggregate that carried it; 0 for a plain record. */
  readonly subSequenceNumber: number;
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/** What {@link readAsKcl} found. */
export interface KclReadBack {
  /** The user records a KCL reader delivers, by shard in ListShards order, in sequence order within a shard. */
  readonly records: KclRecord[];
  /** Sub-records a KCL reader skips: their hash key lies outside the range of the shard that holds their aggregate. */
  readonly skipped: KclRecord[];
}

/**
 * Reads every shard, closed ones included, and deaggregates as the KCL does: a sub-record of an
 * aggregate counts only if its hash key lies inside the range of the shard that holds the
 * aggregate. A plain record always counts. Hash keys and ranges are computed here, with BigInt,
 * independently of the code under test.
 */
export async function readAsKcl(client: KinesisClient, streamName: string): Promise<KclReadBack> {
  const ranges = new Map<string, readonly [bigint, bigint]>();
  for (const shard of await listAllShards(client, streamName)) {
    ranges.set(shard.ShardId ?? '', [BigInt(shard.HashKeyRange?.StartingHashKey ?? -1), BigInt(shard.HashKeyRange?.EndingHashKey ?? -1)]);
  }
  const records: KclRecord[] = [];
  const skipped: KclRecord[] = [];
  for (const stored of await readAllRecords(client, streamName)) {
    const aggregated = isAggregate(stored.data);
    const [start, end] = ranges.get(stored.shardId) ?? [-1n, -1n];
    for (const user of deaggregate(stored)) {
      const record = {
        shardId: stored.shardId,
        sequenceNumber: stored.sequenceNumber,
        subSequenceNumber: user.subSequenceNumber,
        partitionKey: user.partitionKey,
        data: user.data,
      };
      const hashKey = referenceHashKey(user.partitionKey, user.explicitHashKey);
      if (!aggregated || (start <= hashKey && hashKey <= end)) records.push(record);
      else skipped.push(record);
    }
  }
  return { records, skipped };
}

function isAggregate(data: Uint8Array): boolean {
  return (
    data.length > 4 &&
    ((data[0] === 0xf3 && data[1] === 0x89 && data[2] === 0x9a && data[3] === 0xc2) ||
      (data[0] === 0xf5 && data[1] === 0x4c && data[2] === 0x5a && data[3] === 0x34))
  );
}
