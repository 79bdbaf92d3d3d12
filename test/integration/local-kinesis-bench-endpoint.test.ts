import { existsSync } from 'node:fs';
import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsRequestEntry,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFastKinesisServer, type FastKinesisServer } from '../../bench/support/fast-kinesis-server.js';
import { startFastKinesis } from '../../bench/support/fast-kinesis.js';
import { createKinesisClient, listAllShards, md5HashKey, shardOwningHashKey } from '../support/index.js';

const MAX_HASH_KEY = (1n << 128n) - 1n;

describe('fast-kinesis, the non-storing bench endpoint', () => {
  let server: FastKinesisServer;
  let client: KinesisClient;
  let shards: Shard[];
  beforeAll(async () => {
    server = await createFastKinesisServer({ shards: 4096 });
    client = createKinesisClient(server.endpoint);
    shards = await listAllShards(client, 'bench');
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  it('lists 4,096 open shards in pages whose ranges tile the hash key space', async () => {
    const first = await client.send(new ListShardsCommand({ StreamName: 'bench', MaxResults: 1000 }));
    expect(first.Shards).toHaveLength(1000);
    expect(first.NextToken).toBeDefined();
    expect(shards).toHaveLength(4096);
    let next = 0n;
    for (const shard of shards) {
      expect(BigInt(shard.HashKeyRange?.StartingHashKey ?? '-1')).toBe(next);
      next = BigInt(shard.HashKeyRange?.EndingHashKey ?? '-1') + 1n;
      expect(shard.SequenceNumberRange?.EndingSequenceNumber).toBeUndefined();
    }
    expect(next).toBe(MAX_HASH_KEY + 1n);
    const latest = await client.send(
      new ListShardsCommand({ StreamName: 'bench', ShardFilter: { Type: 'AT_LATEST' }, MaxResults: 10_000 }),
    );
    expect(latest.Shards).toHaveLength(4096);
  });

  it('answers every record with the shard that owns its hash key and increasing sequence numbers', async () => {
    const boundaries = shards
      .slice(0, 100)
      .flatMap((shard) => [shard.HashKeyRange?.StartingHashKey ?? '', shard.HashKeyRange?.EndingHashKey ?? '']);
    const entries: PutRecordsRequestEntry[] = [
      ...boundaries.map((key) => ({ PartitionKey: 'a', ExplicitHashKey: key, Data: new Uint8Array(3) })),
      { PartitionKey: 'b', ExplicitHashKey: MAX_HASH_KEY.toString(), Data: new Uint8Array(1) },
      { PartitionKey: 'quote " and \\ backslash', Data: new Uint8Array(1) },
      { PartitionKey: 'ünïcødé 🚀', Data: new Uint8Array(1) },
      { PartitionKey: 'x'.repeat(256), Data: new Uint8Array(0) },
      ...Array.from({ length: 95 }, (_, i) => ({ PartitionKey: `key-${i}`, Data: new Uint8Array(i) })),
    ];
    const answer = await client.send(new PutRecordsCommand({ StreamName: 'bench', Records: entries }));
    expect(answer.FailedRecordCount).toBe(0);
    let previous = -1n;
    answer.Records?.forEach((result, i) => {
      const entry = entries[i] as PutRecordsRequestEntry;
      const hashKey = entry.ExplicitHashKey === undefined ? md5HashKey(entry.PartitionKey ?? '') : BigInt(entry.ExplicitHashKey);
      expect(result.ShardId).toBe(shardOwningHashKey(shards, hashKey)?.ShardId);
      const sequenceNumber = BigInt(result.SequenceNumber ?? '0');
      expect(sequenceNumber).toBeGreaterThan(previous);
      expect(result.SequenceNumber).toHaveLength(56);
      previous = sequenceNumber;
    });
    expect(server.counts.records).toBeGreaterThanOrEqual(entries.length);
  });

  it('answers PutRecord and DescribeStreamSummary', async () => {
    const put = await client.send(new PutRecordCommand({ StreamName: 'bench', PartitionKey: 'single', Data: new Uint8Array(1) }));
    expect(put.ShardId).toBe(shardOwningHashKey(shards, md5HashKey('single'))?.ShardId);
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'bench' }));
    expect(summary.StreamDescriptionSummary).toMatchObject({ StreamStatus: 'ACTIVE', OpenShardCount: 4096 });
  });

  it('refuses an invalid ExplicitHashKey', async () => {
    await expect(
      client.send(
        new PutRecordsCommand({
          StreamName: 'bench',
          Records: [{ PartitionKey: 'a', ExplicitHashKey: (MAX_HASH_KEY + 1n).toString(), Data: new Uint8Array(1) }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidArgumentException' });
  });
});

const built = existsSync(new URL('../../dist/bench/support/fast-kinesis.js', import.meta.url));

describe.skipIf(!built)('fast-kinesis in a child process (needs `npm run build`)', () => {
  it('starts, answers, counts and stops', async () => {
    const fast = await startFastKinesis({ shards: 3 });
    const client = createKinesisClient(fast.endpoint);
    try {
      expect(fast.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const answer = await client.send(
        new PutRecordsCommand({ StreamName: 's', Records: [{ PartitionKey: 'k', Data: new Uint8Array(1) }] }),
      );
      expect(answer.FailedRecordCount).toBe(0);
      expect(await fast.counts()).toMatchObject({ putRecordsRequests: 1, records: 1 });
    } finally {
      client.destroy();
      await fast.stop();
    }
    expect(() => process.kill(fast.pid, 0)).toThrow();
  });
});
