import { describe, expect, it } from 'vitest';
import { deaggregate, ValidationError } from '../../src/index.js';
import { createKinesisClient, readAllRecords, startLocalKinesis } from '../support/index.js';
import { createProducer } from '../support/producer.js';

const MiB = 1024 * 1024;
const STREAM = 'large';

/** Data whose bytes say which record it is, so that a record swapped or cut shows on read-back. */
function filled(bytes: number, seed: number): Buffer {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 1024) data[i] = (seed * 31 + i / 1024) & 0xff;
  data[bytes - 1] = seed & 0xff;
  return data;
}

async function readUserRecords(endpoint: string): Promise<Map<string, Buffer[]>> {
  const client = createKinesisClient(endpoint);
  try {
    const byKey = new Map<string, Buffer[]>();
    for (const record of await readAllRecords(client, STREAM)) {
      for (const user of deaggregate({ data: record.data, partitionKey: record.partitionKey })) {
        const list = byKey.get(user.partitionKey) ?? [];
        list.push(Buffer.from(user.data));
        byKey.set(user.partitionKey, list);
      }
    }
    return byKey;
  } finally {
    client.destroy();
  }
}

describe('records larger than 1 MiB', () => {
  it('puts records of 2, 5 and 10 MiB with their keys among small ones on a stream whose MaxRecordSizeInKiB is 10,240', async () => {
    const local = await startLocalKinesis({ streams: [{ name: STREAM, shards: 2, maxRecordSizeInKiB: 10_240 }], limits: false });
    // This stream has no write limits: the producer need not pace 17 MiB at a shard's 1 MiB/s.
    const producer = createProducer(local.endpoint, { streamName: STREAM, rateLimit: 10_000, adaptiveRateLimit: false });
    const sent = new Map<string, Buffer>();
    const results: Array<Promise<unknown>> = [];
    const add = (partitionKey: string, data: Buffer): void => {
      sent.set(partitionKey, data);
      results.push(producer.add({ partitionKey, data }));
    };
    for (let i = 0; i < 300; i++) add(`small-${i}`, filled(100 + (i % 50), i));
    add('two', filled(2 * MiB - 3, 2));
    for (let i = 300; i < 600; i++) add(`small-${i}`, filled(100, i));
    add('five', filled(5 * MiB - 4, 5));
    add('ten', filled(10 * MiB - 3, 10));
    for (let i = 600; i < 900; i++) add(`small-${i}`, filled(100, i));
    await Promise.all(results);

    const stored = await readUserRecords(local.endpoint);
    for (const [key, data] of sent) {
      expect(stored.get(key), key).toHaveLength(1);
      expect(Buffer.compare(stored.get(key)?.[0] as Buffer, data), key).toBe(0);
    }
    expect(local.stats().throttledRecords).toBe(0);
  });

  it("lets a 5 MiB record through a shard's limits without throttling", async () => {
    const local = await startLocalKinesis({ streams: [{ name: STREAM, shards: 1, maxRecordSizeInKiB: 10_240 }] });
    const producer = createProducer(local.endpoint, { streamName: STREAM });
    const results = [producer.add({ partitionKey: 'large', data: filled(5 * MiB, 1) })];
    for (let i = 0; i < 50; i++) results.push(producer.add({ partitionKey: `small-${i}`, data: filled(1000, i) }));
    await Promise.all(results);
    expect(local.stats().acceptedRecords).toBeGreaterThanOrEqual(2);
    expect(local.stats().throttledRecords).toBeLessThanOrEqual(1);
  });

  it("on a default stream puts 1 MiB with the key and refuses 1 MiB + 1 naming the stream's limit, sending nothing for it", async () => {
    const local = await startLocalKinesis({ streams: [{ name: STREAM, shards: 1 }] });
    const producer = createProducer(local.endpoint, { streamName: STREAM });
    const key = 'k'.repeat(16);
    await producer.add({ partitionKey: key, data: filled(MiB - 16, 1) });
    local.resetStats();
    const refused = await producer.add({ partitionKey: key, data: filled(MiB - 15, 2) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ field: 'data', limit: MiB, actual: MiB + 1, code: 'KPL_RECORD_TOO_LARGE' });
    expect((refused as Error).message).toContain('1,048,576');
    expect((refused as Error).message).toContain('MaxRecordSizeInKiB');
    await producer.flush();
    expect(local.stats().putRecordsRequests).toBe(0);
    expect(producer.outstandingRecords).toBe(0);
  });

  it("refuses over 10 MiB at once, before the stream's limit is known", async () => {
    const local = await startLocalKinesis({ streams: [{ name: STREAM, shards: 1, maxRecordSizeInKiB: 10_240 }] });
    const producer = createProducer(local.endpoint, { streamName: STREAM });
    const refused = await producer.add({ partitionKey: 'k', data: Buffer.alloc(10 * MiB) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ field: 'data', limit: 10 * MiB, code: 'KPL_RECORD_TOO_LARGE' });
    expect((refused as Error).message).toContain('10,485,760');
    const ok = await producer.add({ partitionKey: 'k', data: filled(10 * MiB - 1, 3) });
    expect(ok.successful).toBe(true);
  });

  it('takes maxRecordSize from the option without asking the stream', async () => {
    const local = await startLocalKinesis({ streams: [{ name: STREAM, shards: 1, maxRecordSizeInKiB: 10_240 }], limits: false });
    const producer = createProducer(local.endpoint, { streamName: STREAM, maxRecordSize: 2 * MiB });
    await producer.add({ partitionKey: 'k', data: filled(2 * MiB - 1, 1) });
    await expect(producer.add({ partitionKey: 'k', data: filled(2 * MiB, 2) })).rejects.toMatchObject({ limit: 2 * MiB });
  });
});
