/**
 * What issue 4 asks of bad input beyond producer-api.test.ts, which covers the basic cases: records
 * over 1 MiB only because of their key's UTF-8 bytes or their string's, other wrong types, that
 * a rejection comes at once and enqueues nothing, that the error names the limit, and options
 * misspelt inside `retry` or of the wrong type.
 */
import { describe, expect, it } from 'vitest';
import { deaggregate, KinesisProducer, type UserRecord, type UserRecordResult, ValidationError } from '../../src/index.js';
import { createKinesisClient, readAllRecords, startLocalKinesis } from '../support/index.js';
import { createProducer } from '../support/producer.js';

const MIB = 1024 * 1024;

/** Whether `promise` has settled before any I/O callback could run. */
async function settledAtOnce(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('reliability: bad input', () => {
  it('rejects each bad record at once, enqueues nothing, names the field and the limit, and delivers the records around it', async () => {
    const kinesis = await startLocalKinesis({ streams: [{ name: 'inputs', shards: 2 }], limits: false });
    // The stream's 1 MiB known from the start: without maxRecordSize, a record over 1 MiB added
    // before DescribeStreamSummary answered waits for it (producer-large-records.test.ts).
    const producer = createProducer(kinesis.endpoint, { streamName: 'inputs', maxRecordSize: MIB });
    const bad: Array<{ record: unknown; field: string; limit?: number; actual?: number }> = [
      // Over 1 MiB only through the key's UTF-8 bytes: 1,048,575 bytes of data and a 2-byte key.
      { record: { partitionKey: 'é', data: new Uint8Array(MIB - 1) }, field: 'data', limit: MIB, actual: MIB + 1 },
      // Over 1 MiB only through the string's UTF-8 bytes: 524,288 two-byte characters and a key.
      { record: { partitionKey: 'k', data: 'é'.repeat(MIB / 2) }, field: 'data', limit: MIB, actual: MIB + 1 },
      { record: { partitionKey: `${'🚀'.repeat(128)}a`, data: 'x' }, field: 'partitionKey', limit: 256, actual: 257 },
      { record: { partitionKey: 'k', data: 'x', explicitHashKey: 5 }, field: 'explicitHashKey' },
      { record: { partitionKey: 'k', data: 'x', explicitHashKey: 2n ** 127n }, field: 'explicitHashKey' },
      { record: { partitionKey: 'k', data: 'x', explicitHashKey: '1e3' }, field: 'explicitHashKey' },
      { record: { partitionKey: 'k', data: 'x', explicitHashKey: ' 1' }, field: 'explicitHashKey' },
      { record: { partitionKey: 'k', data: 'x', explicitHashKey: '340282366920938463463374607431768211456' }, field: 'explicitHashKey' },
      { record: { partitionKey: 'k', data: new ArrayBuffer(4) }, field: 'data' },
      { record: { partitionKey: 'k', data: [1, 2, 3] }, field: 'data' },
      { record: { partitionKey: 'k', data: new DataView(new ArrayBuffer(4)) }, field: 'data' },
      { record: { partitionKey: 'k' }, field: 'data' },
      { record: { data: 'x' }, field: 'partitionKey' },
      { record: 42, field: 'record' },
    ];
    const good: UserRecord[] = [
      // Exactly 1 MiB with the key, through a string's UTF-8 bytes.
      { partitionKey: 'k', data: `${'é'.repeat(MIB / 2 - 1)}a` },
      { partitionKey: 'é', data: new Uint8Array(MIB - 2) },
      { partitionKey: '🚀'.repeat(128), data: 'astral key at 256 code units' },
      { partitionKey: 'buffer', data: Buffer.from('a Buffer is a Uint8Array') },
    ];
    const delivered: Array<Promise<UserRecordResult>> = [];
    for (const [i, { record, field, limit, actual }] of bad.entries()) {
      delivered.push(producer.add(good[i % good.length] as UserRecord));
      const outstanding = producer.outstandingRecords;
      const rejection = producer.add(record as UserRecord);
      expect(producer.outstandingRecords, `bad input ${i} was enqueued`).toBe(outstanding);
      expect(await settledAtOnce(rejection), `bad input ${i} did not settle at once`).toBe(true);
      const error = await rejection.catch((e: unknown) => e);
      expect(error, `bad input ${i}`).toBeInstanceOf(ValidationError);
      expect(error, `bad input ${i}`).toMatchObject({ field });
      if (limit !== undefined) {
        expect(error, `bad input ${i}`).toMatchObject({ limit, actual });
        expect((error as ValidationError).message).toContain(limit.toLocaleString('en-US'));
      }
    }
    const results = await Promise.all(delivered);
    expect(results.every((result) => result.successful)).toBe(true);

    const client = createKinesisClient(kinesis.endpoint);
    try {
      const stored = (await readAllRecords(client, 'inputs')).flatMap((record) => deaggregate(record));
      expect(stored).toHaveLength(delivered.length);
      expect(stored.some((record) => record.data.length === MIB - 1)).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it('rejects options misspelt inside retry, of the wrong type, or out of range, naming each', () => {
    const base = { streamName: 'inputs', endpoint: 'http://127.0.0.1:4567' };
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ retry: { minDelay: 10 } }, 'retry.minDelay', /did you mean retry\.minDelayMs/],
      [{ recordMaxBuferedTime: 10 }, 'recordMaxBuferedTime', /did you mean recordMaxBufferedTime/],
      [{ maxConnections: '24' }, 'maxConnections', /whole number from 1 to 256/],
      [{ maxConnections: 257 }, 'maxConnections', /1 to 256/],
      [{ rateLimit: 1.5 }, 'rateLimit', /whole number/],
      [{ maxOutstandingBytes: 1024 }, 'maxOutstandingBytes', /1,048,576/],
      [{ retry: { minDelayMs: 500, maxDelayMs: 100 } }, 'retry.maxDelayMs', /at least retry\.minDelayMs/],
      [{ strictOrdering: 'yes' }, 'strictOrdering', /true or false/],
      [{ compression: 'gzip' }, 'compression', /'none', 'lz4'/],
    ];
    for (const [options, field, message] of cases) {
      let error: unknown;
      try {
        new KinesisProducer({ ...base, ...options });
      } catch (thrown) {
        error = thrown;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
      expect(error, JSON.stringify(options)).toMatchObject({ field });
      expect((error as ValidationError).message).toMatch(message);
    }
  });
});
