import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { deaggregate } from '../../src/index.js';
import { readRecordsByShard } from './read-records.js';
import { referenceHashKey } from './records.js';
import { listAllShards } from './streams.js';

/**
 * The user records' data as UTF-8 strings, read back the way the KCL does: every shard in sequence
 * order, aggregates unpacked, and a sub-record counted only if its hash key lies in the range of the
 * shard that holds its aggregate.
 */
export async function readBackLikeKcl(client: KinesisClient, streamName: string): Promise<string[]> {
  const shards = new Map((await listAllShards(client, streamName)).map((shard) => [shard.ShardId ?? '', shard]));
  const texts: string[] = [];
  for (const [shardId, stored] of await readRecordsByShard(client, streamName)) {
    const range = shards.get(shardId)?.HashKeyRange;
    const low = BigInt(range?.StartingHashKey ?? '0');
    const high = BigInt(range?.EndingHashKey ?? '0');
    for (const kinesisRecord of stored) {
      for (const user of deaggregate(kinesisRecord)) {
        const hashKey = referenceHashKey(user.partitionKey, user.explicitHashKey);
        if (hashKey < low || hashKey > high) continue;
        texts.push(Buffer.from(user.data).toString('utf8'));
      }
    }
  }
  return texts;
}
