import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  BufferFullError,
  deaggregate,
  KinesisProducer,
  ProducerClosedError,
  type UserRecord,
  UserRecordFailedError,
  ValidationError,
} from '../../src/index.js';
import { createKinesisClient, createStream, readAllRecords, uniqueStreamName } from '../support/index.js';
import { createProducer } from '../support/producer.js';

const MAX_HASH_KEY = (2n ** 128n - 1n).toString();

describe('producer API', () => {
  const endpoint = inject('kinesaliteEndpoint');
  const client = createKinesisClient(endpoint);
  const streamName = uniqueStreamName('api');
  const otherStream = uniqueStreamName('api-other');
  beforeAll(async () => {
    await createStream(client, streamName, 2);
    await createStream(client, otherStream, 1);
  });
  afterAll(() => client.destroy());

  async function readUserRecords(stream: string): Promise<Array<{ partitionKey: string; data: Buffer; shardId: string }>> {
    return (await readAllRecords(client, stream)).flatMap((stored) =>
      deaggregate(stored).map((user) => ({ partitionKey: user.partitionKey, data: Buffer.from(user.data), shardId: stored.shardId })),
    );
  }

  it('rejects every bad input at once with a ValidationError, and delivers the valid records beside it, limits included', async () => {
    const reader = uniqueStreamName('api-valid');
    await createStream(client, reader, 2);
    const producer = createProducer(endpoint, { streamName: reader });
    const bad: Array<[unknown, string]> = [
      [undefined, 'record'],
      [null, 'record'],
      ['a string', 'record'],
      [{ partitionKey: '', data: 'x' }, 'partitionKey'],
      [{ partitionKey: 'k'.repeat(257), data: 'x' }, 'partitionKey'],
      [{ partitionKey: 42, data: 'x' }, 'partitionKey'],
      [{ partitionKey: 'k', data: new Uint8Array(1024 * 1024) }, 'data'],
      [{ partitionKey: 'k', data: 12 }, 'data'],
      [{ partitionKey: 'k', data: { bytes: [1] } }, 'data'],
      [{ partitionKey: 'k', data: 'x', explicitHashKey: (2n ** 128n).toString() }, 'explicitHashKey'],
      [{ partitionKey: 'k', data: 'x', explicitHashKey: '-1' }, 'explicitHashKey'],
      [{ partitionKey: 'k', data: 'x', explicitHashKey: '12ab' }, 'explicitHashKey'],
      [{ partitionKey: 'k', data: 'x', explicitHashKey: '' }, 'explicitHashKey'],
    ];
    const valid: UserRecord[] = [
      { partitionKey: 'k'.repeat(256), data: 'longest key' },
      { partitionKey: 'k', data: new Uint8Array(1024 * 1024 - 1).fill(7) },
      { partitionKey: 'é', data: new Uint8Array(1024 * 1024 - 2).fill(8) },
      { partitionKey: 'zero', data: 'lowest hash key', explicitHashKey: '0' },
      { partitionKey: 'max', data: 'highest hash key', explicitHashKey: MAX_HASH_KEY },
      { partitionKey: 'lead', data: 'leading zeros', explicitHashKey: '000123' },
      { partitionKey: 'empty', data: '' },
      { partitionKey: '🚀'.repeat(128), data: 'astral key of 256 UTF-16 units' },
    ];
    const deliveries = [];
    for (let i = 0; i < bad.length; i++) {
      deliveries.push(producer.add(valid[i % valid.length] as UserRecord));
      const [record, field] = bad[i] as [unknown, string];
      const error = await producer.add(record as UserRecord).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `bad input ${i}`).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
      expect((error as ValidationError).message.length).toBeGreaterThan(10);
    }
    for (const record of valid) deliveries.push(producer.add(record));
    const results = await Promise.all(deliveries);
    expect(results.every((r) => r.successful)).toBe(true);
    await producer.flush();
    const stored = await readUserRecords(reader);
    expect(stored).toHaveLength(deliveries.length);
    expect(stored.some((r) => r.data.length === 1024 * 1024 - 1)).toBe(true);
  });

  it('rejects add() after close() with ProducerClosedError', async () => {
    const producer = new KinesisProducer({ streamName, endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const before = producer.add({ partitionKey: 'k', data: 'before close' });
    await producer.close();
    await expect(before).resolves.toMatchObject({ successful: true });
    await expect(producer.add({ partitionKey: 'k', data: 'x' })).rejects.toBeInstanceOf(ProducerClosedError);
    await producer.close();
  });

  it('flush() settles every record added before it, without waiting for recordMaxBufferedTime', async () => {
    const producer = createProducer(endpoint, { streamName, recordMaxBufferedTime: 600_000 });
    const promises = Array.from({ length: 300 }, (_, i) => producer.add({ partitionKey: `f${i}`, data: 'flush me' }));
    const settled = Promise.allSettled(promises);
    await producer.flush();
    expect(producer.outstandingRecords).toBe(0);
    expect((await settled).every((s) => s.status === 'fulfilled')).toBe(true);
  });

  it('refuses records at maxOutstandingRecords with BufferFullError, and ready() waits for room', async () => {
    const producer = createProducer(endpoint, { streamName, maxOutstandingRecords: 10, recordMaxBufferedTime: 600_000 });
    const accepted = Array.from({ length: 10 }, (_, i) => producer.add({ partitionKey: `b${i}`, data: 'x' }));
    const error = await producer.add({ partitionKey: 'over', data: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BufferFullError);
    expect(error).toMatchObject({ field: 'maxOutstandingRecords', limit: 10, actual: 10, max: 10, outstanding: 10 });
    expect(producer.outstandingRecords).toBe(10);
    let ready = false;
    const readiness = producer.ready().then(() => {
      ready = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ready).toBe(false);
    await producer.flush();
    await readiness;
    expect(ready).toBe(true);
    await Promise.all(accepted);
  });

  it('refuses records at maxOutstandingBytes, naming that limit', async () => {
    const producer = createProducer(endpoint, { streamName, maxOutstandingBytes: 1024 * 1024, recordMaxBufferedTime: 600_000 });
    const first = producer.add({ partitionKey: 'k', data: new Uint8Array(900_000) });
    await expect(producer.add({ partitionKey: 'k', data: new Uint8Array(200_000) })).rejects.toMatchObject({
      field: 'maxOutstandingBytes',
    });
    await producer.flush();
    await first;
  });

  it('writable() honours backpressure: a piped source never overfills the producer', async () => {
    const piped = uniqueStreamName('api-pipe');
    await createStream(client, piped, 2);
    const producer = createProducer(endpoint, { streamName: piped, maxOutstandingRecords: 200, recordMaxBufferedTime: 20 });
    let peak = 0;
    function* records(): Generator<UserRecord> {
      for (let i = 0; i < 5000; i++) {
        peak = Math.max(peak, producer.outstandingRecords);
        yield { partitionKey: `p${i}`, data: `piped ${i}` };
      }
    }
    await pipeline(Readable.from(records()), producer.writable());
    expect(peak).toBeLessThanOrEqual(200);
    expect(producer.outstandingRecords).toBe(0);
    expect(await readUserRecords(piped)).toHaveLength(5000);
  });

  it('writable() waits for room for a large record instead of spinning when bytes are nearly full', async () => {
    const piped = uniqueStreamName('api-pipe-bytes');
    await createStream(client, piped, 1);
    const producer = createProducer(endpoint, { streamName: piped, maxOutstandingBytes: 1024 * 1024, recordMaxBufferedTime: 20 });
    const records = Array.from({ length: 12 }, (_, i) => ({ partitionKey: `big-${i}`, data: new Uint8Array(300_000).fill(i) }));
    await pipeline(Readable.from(records), producer.writable());
    expect(producer.outstandingBytes).toBe(0);
    expect(await readUserRecords(piped)).toHaveLength(12);
  });

  it('writable() errors with the first record that fails', async () => {
    const producer = createProducer(endpoint, { streamName: uniqueStreamName('missing'), recordTtl: 1000 });
    const source = Readable.from([{ partitionKey: 'k', data: 'x' }]);
    await expect(pipeline(source, producer.writable())).rejects.toBeInstanceOf(UserRecordFailedError);
  });

  it('writable() rejects bad input with a ValidationError', async () => {
    const producer = createProducer(endpoint, { streamName });
    await expect(pipeline(Readable.from([{ partitionKey: '', data: 'x' }]), producer.writable())).rejects.toBeInstanceOf(ValidationError);
  });

  it('fails records for a stream that does not exist at once, with its error code, instead of burning the TTL', async () => {
    const producer = createProducer(endpoint, { streamName: uniqueStreamName('missing'), recordTtl: 60_000 });
    const started = Date.now();
    const error = await producer.add({ partitionKey: 'k', data: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserRecordFailedError);
    expect((error as UserRecordFailedError).attempts.at(-1)?.errorCode).toBe('ResourceNotFoundException');
    expect((error as UserRecordFailedError).record).toEqual({ partitionKey: 'k', data: 'x' });
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('sends a record that names another stream to that stream', async () => {
    const producer = createProducer(endpoint, { streamName });
    const result = await producer.add({ partitionKey: 'elsewhere', data: 'to the other stream', streamName: otherStream });
    expect(result.shardId).toMatch(/^shardId-/);
    await producer.flush();
    expect((await readUserRecords(otherStream)).map((r) => r.data.toString())).toContain('to the other stream');
  });

  it('rejects a bad option in the constructor with a ValidationError', () => {
    expect(() => new KinesisProducer({ streamName, endpoint, maxConections: 4 } as never)).toThrow(/did you mean maxConnections/);
    expect(() => new KinesisProducer({ streamName, endpoint, recordTtl: -1 })).toThrow(ValidationError);
  });
});
