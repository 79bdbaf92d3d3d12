import { MergeShardsCommand, type Shard, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deaggregate, KinesisProducer, type UserRecordResult } from '../../src/index.js';
import { createKinesisClient, createStream, isOpenShard, listAllShards, readAllRecords, uniqueStreamName, waitForStreamActive } from '../support/index.js';
import { referenceHashKey } from '../support/records.js';
import { createRandom } from '../../src/testing/random.js';

const WAVES = 12;
const RECORDS_PER_WAVE = 500;

describe('producer during resharding', () => {
  const endpoint = inject('kinesaliteEndpoint');
  const client = createKinesisClient(endpoint);
  const streamName = uniqueStreamName('reshard');
  beforeAll(async () => createStream(client, streamName, 4));
  afterAll(() => client.destroy());

  it('loses nothing across a split and a merge, and never mixes shards in an aggregate once the map is refreshed', async () => {
    let mapLoads = 0;
    const logger = { debug() {}, warn() {}, error() {}, info(message: string) { if (message === 'shard map loaded') mapLoads++; } };
    const producer = new KinesisProducer({
      streamName, endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, logger, metricsLevel: 'none', recordMaxBufferedTime: 20,
    });
    const random = createRandom(7);
    const pending: Array<Promise<UserRecordResult>> = [];
    const checkAfterRefresh = new Set<string>();
    let reshardsDone = 0;
    const reshard = async (wave: number): Promise<void> => {
      const open = (await listAllShards(client, streamName)).filter(isOpenShard)
        .sort((a, b) => (BigInt(a.HashKeyRange?.StartingHashKey ?? 0) < BigInt(b.HashKeyRange?.StartingHashKey ?? 0) ? -1 : 1));
      if (wave === 3) {
        const first = open[0] as Shard;
        const start = BigInt(first.HashKeyRange?.StartingHashKey ?? 0);
        const end = BigInt(first.HashKeyRange?.EndingHashKey ?? 0);
        await client.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: first.ShardId, NewStartingHashKey: String((start + end) / 2n) }));
      } else {
        const [left, right] = open.slice(-2) as [Shard, Shard];
        await client.send(new MergeShardsCommand({ StreamName: streamName, ShardToMerge: left.ShardId, AdjacentShardToMerge: right.ShardId }));
      }
      await waitForStreamActive(client, streamName);
      reshardsDone++;
    };

    for (let wave = 0; wave < WAVES; wave++) {
      if (wave === 3 || wave === 7) await reshard(wave);
      const refreshed = mapLoads >= 1 + reshardsDone;
      for (let i = 0; i < RECORDS_PER_WAVE; i++) {
        const id = `${wave}-${i}`;
        if (refreshed) checkAfterRefresh.add(id);
        pending.push(producer.add({ partitionKey: `key-${Math.floor(random() * 1e9)}`, data: id }));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const settled = await Promise.allSettled(pending);
    await producer.close();
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    expect(mapLoads).toBeGreaterThanOrEqual(3);

    const shards = await listAllShards(client, streamName);
    const rangeOf = new Map(shards.map((s) => [s.ShardId, [BigInt(s.HashKeyRange?.StartingHashKey ?? 0), BigInt(s.HashKeyRange?.EndingHashKey ?? 0)]]));
    const seen = new Set<string>();
    const misplaced: string[] = [];
    for (const stored of await readAllRecords(client, streamName)) {
      const [start, end] = rangeOf.get(stored.shardId) as [bigint, bigint];
      for (const user of deaggregate(stored)) {
        const id = Buffer.from(user.data).toString();
        seen.add(id);
        const hashKey = referenceHashKey(user.partitionKey, user.explicitHashKey);
        if (checkAfterRefresh.has(id) && (hashKey < start || hashKey > end)) misplaced.push(`${id} in ${stored.shardId}`);
      }
    }
    expect(seen.size).toBe(WAVES * RECORDS_PER_WAVE);
    expect(checkAfterRefresh.size).toBeGreaterThan(RECORDS_PER_WAVE * 4);
    expect(misplaced).toEqual([]);
  });
});
