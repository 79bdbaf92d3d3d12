import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferFullError, KinesisProducer, type ProducerConfig, SpoolLockedError } from '../../src/index.js';
import { createKinesisClient, startLocalKinesis } from '../support/index.js';
import { readBackLikeKcl } from '../support/kcl-read-back.js';

const STREAM = 'spooled';
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});
function spoolDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'kpl-producer-spool-'));
  directories.push(directory);
  return directory;
}

function producerFor(endpoint: string, config: Partial<ProducerConfig>): KinesisProducer {
  return new KinesisProducer({
    streamName: STREAM,
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    recordMaxBufferedTime: 20,
    ...config,
  });
}

describe('producer with a spool', () => {
  it('delivers what add() and enqueue() take, add() resolving where Kinesis stored it', async () => {
    const kinesis = await startLocalKinesis({ streams: [{ name: STREAM, shards: 2 }] });
    const producer = producerFor(kinesis.endpoint, { spool: { directory: spoolDirectory(), syncIntervalMs: 10 } });
    const added = await Promise.all(Array.from({ length: 50 }, (_, i) => producer.add({ partitionKey: `k${i}`, data: `added ${i}` })));
    for (const result of added) expect(result.shardId).toMatch(/^shardId-/);
    await Promise.all(Array.from({ length: 50 }, (_, i) => producer.enqueue({ partitionKey: `k${i}`, data: `enqueued ${i}` })));
    await producer.flush();
    expect(producer.spoolStats).toMatchObject({ records: 0, delivered: 100, recovered: 0 });
    const metrics = await producer.metrics.getMetricsAsJSON();
    expect(metrics.find((metric) => metric.name === 'kpl_spool_records_delivered_total')?.values[0]?.value).toBe(100);
    await producer.close();
    const client = createKinesisClient(kinesis.endpoint);
    const texts = await readBackLikeKcl(client, STREAM);
    client.destroy();
    expect(texts.sort()).toEqual(
      [...Array.from({ length: 50 }, (_, i) => `added ${i}`), ...Array.from({ length: 50 }, (_, i) => `enqueued ${i}`)].sort(),
    );
  });

  it('keeps what an outage holds on disk across a restart, and the next process sends it first', async () => {
    const kinesis = await startLocalKinesis({ streams: [{ name: STREAM, shards: 1 }] });
    const directory = spoolDirectory();
    await kinesis.setOutage(true);
    const first = producerFor(kinesis.endpoint, { spool: { directory, syncIntervalMs: 5 }, requestTimeout: 500, recordTtl: 1000 });
    for (let i = 0; i < 200; i++) await first.enqueue({ partitionKey: 'one-key', data: `before ${i}` });
    expect(first.spoolStats?.records).toBe(200);
    await first.close();
    await kinesis.setOutage(false);
    const second = producerFor(kinesis.endpoint, { spool: { directory, syncIntervalMs: 5 } });
    expect(second.spoolStats?.recovered).toBe(200);
    for (let i = 0; i < 20; i++) await second.enqueue({ partitionKey: 'one-key', data: `after ${i}` });
    await second.flush();
    await second.close();
    const client = createKinesisClient(kinesis.endpoint);
    const texts = await readBackLikeKcl(client, STREAM);
    client.destroy();
    // One key on one shard: the shard's order is the order they went out in.
    expect(texts).toEqual([...Array.from({ length: 200 }, (_, i) => `before ${i}`), ...Array.from({ length: 20 }, (_, i) => `after ${i}`)]);
  });

  it('at spool.maxBytes rejects add() with BufferFullError and makes enqueue() wait', async () => {
    const kinesis = await startLocalKinesis({ streams: [{ name: STREAM, shards: 1 }] });
    await kinesis.setOutage(true);
    const producer = producerFor(kinesis.endpoint, {
      spool: { directory: spoolDirectory(), maxBytes: 1024 * 1024, syncIntervalMs: 1 },
      requestTimeout: 200,
      recordTtl: 500,
    });
    const data = 'x'.repeat(1000);
    let enqueued = 0;
    const waiting = Array.from({ length: 1200 }, () =>
      producer.enqueue({ partitionKey: 'k', data }).then(() => {
        enqueued++;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(enqueued).toBeLessThan(1200);
    expect(enqueued).toBeGreaterThan(900);
    await expect(producer.add({ partitionKey: 'k', data })).rejects.toMatchObject({ field: 'spool.maxBytes' });
    await expect(producer.add({ partitionKey: 'k', data })).rejects.toBeInstanceOf(BufferFullError);
    expect(producer.spoolStats?.bytes).toBeLessThanOrEqual(1024 * 1024);
    await producer.close();
    const outcomes = await Promise.allSettled(waiting);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(1200 - enqueued);
  });

  it('refuses a second producer on the same directory', async () => {
    const kinesis = await startLocalKinesis({ streams: [{ name: STREAM, shards: 1 }] });
    const directory = spoolDirectory();
    const first = producerFor(kinesis.endpoint, { spool: { directory } });
    try {
      // The lock holds our own pid: a second process would see it alive. Here the same process asks twice.
      expect(() => producerFor(kinesis.endpoint, { spool: { directory } })).toThrow(SpoolLockedError);
    } finally {
      await first.close();
    }
  });
});
