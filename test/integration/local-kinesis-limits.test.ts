import { performance } from 'node:perf_hooks';
import {
  ProvisionedThroughputExceededException,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { LocalKinesis, LocalKinesisOptions } from '../../src/testing/index.js';
import { createKinesisClient, listAllShards, md5HashKey, readAllRecords, shardOwningHashKey, startLocalKinesis } from '../support/index.js';

const STREAM = 'limited';
/** LocalKinesis and a client of it, both closed when the test finishes. */
async function start(options: LocalKinesisOptions): Promise<[LocalKinesis, KinesisClient]> {
  const kinesis = await startLocalKinesis(options);
  const client = createKinesisClient(kinesis.endpoint);
  onTestFinished(() => client.destroy());
  return [kinesis, client];
}

/** Keys that land on each of the stream's shards, so the test can aim load at every shard alike. */
async function keysPerShard(client: KinesisClient, count: number): Promise<Map<string, string[]>> {
  const shards = await listAllShards(client, STREAM);
  const keys = new Map<string, string[]>(shards.map((shard) => [shard.ShardId ?? '', []]));
  for (let i = 0; [...keys.values()].some((list) => list.length < count); i++) {
    const key = `key-${i}`;
    const list = keys.get(shardOwningHashKey(shards, md5HashKey(key))?.ShardId ?? '');
    if (list !== undefined && list.length < count) list.push(key);
  }
  return keys;
}

interface Offered {
  readonly sent: Array<{ entry: PutRecordsRequestEntry; shardId: string }>;
  readonly accepted: Map<string, { records: number; bytes: number; sequenceNumbers: Set<string> }>;
  readonly throttled: number;
  readonly elapsedMs: number;
}

/**
 * Offers `multiple` times each shard's limit for `seconds`, in ticks of 100 ms, with records of
 * `dataBytes`, and tallies the per-record answers by shard.
 */
async function offerLoad(
  client: KinesisClient,
  keys: Map<string, string[]>,
  perShardPerSecond: number,
  dataBytes: number,
  seconds: number,
): Promise<Offered> {
  const ticks = seconds * 10;
  const perShardPerTick = Math.ceil(perShardPerSecond / 10);
  const sent: Offered['sent'] = [];
  const accepted: Offered['accepted'] = new Map();
  let throttled = 0;
  const started = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    const batch: Offered['sent'] = [];
    for (const [shardId, shardKeys] of keys) {
      for (let i = 0; i < perShardPerTick; i++) {
        const key = shardKeys[i % shardKeys.length] as string;
        batch.push({ entry: { PartitionKey: key, Data: new Uint8Array(dataBytes).fill(tick) }, shardId });
      }
    }
    for (let offset = 0; offset < batch.length; offset += 500) {
      const slice = batch.slice(offset, offset + 500);
      const answer = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: slice.map(({ entry }) => entry) }));
      let failed = 0;
      answer.Records?.forEach((result, i) => {
        const { entry, shardId } = slice[i] as Offered['sent'][number];
        if (result.ErrorCode !== undefined) {
          expect(result.ErrorCode).toBe('ProvisionedThroughputExceededException');
          expect(result.ErrorMessage).toContain(shardId);
          failed++;
          return;
        }
        expect(result.ShardId).toBe(shardId);
        const tally = accepted.get(shardId) ?? { records: 0, bytes: 0, sequenceNumbers: new Set<string>() };
        tally.records++;
        tally.bytes += dataBytes + Buffer.byteLength(entry.PartitionKey ?? '');
        tally.sequenceNumbers.add(result.SequenceNumber ?? '');
        accepted.set(shardId, tally);
      });
      expect(answer.FailedRecordCount).toBe(failed);
      throttled += failed;
    }
    sent.push(...batch);
    const nextTick = started + (tick + 1) * 100;
    const wait = nextTick - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return { sent, accepted, throttled, elapsedMs: performance.now() - started };
}

describe('LocalKinesis write limits', () => {
  it('throttles each shard at 1,000 records/s: the burst plus the refill, no more', async () => {
    const [local, client] = await start({ streams: [{ name: STREAM, shards: 2 }] });
    const keys = await keysPerShard(client, 50);
    const offered = await offerLoad(client, keys, 3_000, 10, 2);

    expect(offered.throttled).toBeGreaterThan(0);
    for (const shardId of keys.keys()) {
      const records = offered.accepted.get(shardId)?.records ?? 0;
      // The bucket starts full (1 s of burst) and refills at the rate for as long as the load ran.
      expect(records).toBeGreaterThanOrEqual(1_000);
      expect(records).toBeLessThanOrEqual(1_000 + Math.ceil((1_000 * offered.elapsedMs) / 1000));
    }

    const stats = local.stats();
    expect(stats.throttledRecords).toBe(offered.throttled);
    expect(stats.acceptedRecords + stats.throttledRecords).toBe(offered.sent.length);
    for (const [shardId, tally] of offered.accepted) {
      expect(stats.streams[STREAM]?.shards[shardId]?.acceptedRecords).toBe(tally.records);
    }

    // What was accepted is stored, and nothing else.
    const stored = await readAllRecords(client, STREAM);
    expect(stored).toHaveLength(offered.sent.length - offered.throttled);
    for (const record of stored) {
      expect(offered.accepted.get(record.shardId)?.sequenceNumbers.has(record.sequenceNumber)).toBe(true);
    }
  });

  it('throttles each shard at its byte rate, counting data plus partition key', async () => {
    const bytesPerSecond = 200_000;
    const [local, client] = await start({
      streams: [{ name: STREAM, shards: 2 }],
      limits: { bytesPerSecond, burstSeconds: 1 },
    });
    const keys = await keysPerShard(client, 20);
    // 2,000-byte records at 3x the byte limit: 300 records/s, far under the record limit.
    const offered = await offerLoad(client, keys, 300, 2_000, 2);

    expect(offered.throttled).toBeGreaterThan(0);
    const recordBytes = 2_000 + 'key-00'.length;
    for (const shardId of keys.keys()) {
      const bytes = offered.accepted.get(shardId)?.bytes ?? 0;
      expect(bytes).toBeGreaterThanOrEqual(bytesPerSecond - recordBytes);
      expect(bytes).toBeLessThanOrEqual(bytesPerSecond + Math.ceil((bytesPerSecond * offered.elapsedMs) / 1000));
      expect(local.stats().streams[STREAM]?.shards[shardId]?.acceptedBytes).toBe(bytes);
    }
  });

  it('lets a record larger than the byte burst through when the bucket is full, then throttles', async () => {
    const [local, client] = await start({
      streams: [{ name: STREAM, shards: 1 }],
      limits: { bytesPerSecond: 1_000, burstSeconds: 1 },
    });
    const records = [
      { PartitionKey: 'k', Data: new Uint8Array(5_000) },
      { PartitionKey: 'k', Data: new Uint8Array(1) },
    ];
    const answer = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
    expect(answer.Records?.map((result) => result.ErrorCode)).toEqual([undefined, 'ProvisionedThroughputExceededException']);
    expect(local.stats()).toMatchObject({ acceptedBytes: 5_001, throttledBytes: 2 });
  });

  it('answers a throttled PutRecord with ProvisionedThroughputExceededException', async () => {
    const [local, client] = await start({
      streams: [{ name: STREAM, shards: 1 }],
      limits: { recordsPerSecond: 2, burstSeconds: 1 },
    });
    const put = () => client.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: new Uint8Array(1) }));
    await put();
    await put();
    const error = await put().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(local.stats()).toMatchObject({ acceptedRecords: 2, throttledRecords: 1, putRecordRequests: 3 });
  });

  it('accepts everything with limits: false', async () => {
    const [local, client] = await start({ streams: [{ name: STREAM, shards: 1 }], limits: false });
    const records = Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `k${i}`, Data: new Uint8Array(10) }));
    for (let i = 0; i < 6; i++) {
      const answer = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
      expect(answer.FailedRecordCount).toBe(0);
    }
    expect(local.stats().acceptedRecords).toBe(3_000);
  });

  it('refuses a PutRecords over 10 MiB of data and keys, and a record over 1 MiB with its key', async () => {
    const [, client] = await start({ streams: [{ name: STREAM, shards: 1 }], limits: false });
    const big = new Uint8Array(1_048_576 - 10);
    const tooMuch = Array.from({ length: 11 }, (_, i) => ({ PartitionKey: `key-${i}`, Data: big }));
    await expect(client.send(new PutRecordsCommand({ StreamName: STREAM, Records: tooMuch }))).rejects.toMatchObject({
      name: 'InvalidArgumentException',
      message: expect.stringContaining('the limit is 10,485,760'),
    });
    const keyTipsOver = [{ PartitionKey: 'k'.repeat(11), Data: big }];
    await expect(client.send(new PutRecordsCommand({ StreamName: STREAM, Records: keyTipsOver }))).rejects.toMatchObject({
      name: 'InvalidArgumentException',
      message: expect.stringContaining('the limit is 1,048,576'),
    });
    const atLimit = [{ PartitionKey: 'k'.repeat(10), Data: big }];
    const answer = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: atLimit }));
    expect(answer.FailedRecordCount).toBe(0);
  });

  it('lets kinesalite judge malformed requests and unknown streams', async () => {
    const [, client] = await start({ streams: [{ name: STREAM, shards: 1 }] });
    await expect(
      client.send(new PutRecordsCommand({ StreamName: 'no-such-stream', Records: [{ PartitionKey: 'k', Data: new Uint8Array(1) }] })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      client.send(
        new PutRecordsCommand({
          StreamName: STREAM,
          Records: [{ PartitionKey: 'k', Data: new Uint8Array(1), ExplicitHashKey: (1n << 128n).toString() }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidArgumentException' });
  });
});
