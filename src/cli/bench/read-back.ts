import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type ListShardsCommandInput,
} from '@aws-sdk/client-kinesis';
import { deaggregate } from '../../format/deaggregate.js';
import type { ReadBack } from './summary.js';
import type { RecordFactory } from './workload.js';

const MAX_PAGES_PER_SHARD = 100_000;

/**
 * Reads every shard of the stream from TRIM_HORIZON to its end, unpacks aggregates as a consumer
 * would (deaggregate), and checks that every record whose add() resolved is there, by the index
 * that the factory wrote into its data.
 */
export async function readBack(
  client: KinesisClient,
  streamName: string,
  factory: RecordFactory,
  delivered: Uint8Array,
): Promise<ReadBack> {
  const seen = new Uint8Array(delivered.length);
  let found = 0;
  let duplicates = 0;
  for (const shardId of await listShardIds(client, streamName)) {
    await readShard(client, streamName, shardId, (data) => {
      const index = factory.indexOf(data);
      if (index < 0 || index >= seen.length) return;
      if (seen[index] === 1) duplicates++;
      else {
        seen[index] = 1;
        found++;
      }
    });
  }
  let missing = 0;
  for (let i = 0; i < delivered.length; i++) if (delivered[i] === 1 && seen[i] !== 1) missing++;
  return { found, missing, duplicates };
}

async function listShardIds(client: KinesisClient, streamName: string): Promise<string[]> {
  const ids: string[] = [];
  let input: ListShardsCommandInput = { StreamName: streamName };
  for (;;) {
    const page = await client.send(new ListShardsCommand(input));
    for (const shard of page.Shards ?? []) if (shard.ShardId !== undefined) ids.push(shard.ShardId);
    if (page.NextToken === undefined || page.NextToken === '') return ids;
    input = { NextToken: page.NextToken };
  }
}

async function readShard(client: KinesisClient, streamName: string, shardId: string, onRecord: (data: Uint8Array) => void): Promise<void> {
  const start = await client.send(
    new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  let iterator = start.ShardIterator;
  for (let page = 0; iterator !== undefined && page < MAX_PAGES_PER_SHARD; page++) {
    const result = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
    const records = result.Records ?? [];
    for (const record of records) {
      for (const user of deaggregate({ data: record.Data ?? new Uint8Array(0), partitionKey: record.PartitionKey ?? '' }))
        onRecord(user.data);
    }
    if (records.length === 0 && (result.MillisBehindLatest ?? 0) === 0) return;
    iterator = result.NextShardIterator;
  }
}
