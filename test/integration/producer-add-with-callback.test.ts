import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  BufferFullError,
  deaggregate,
  ProducerClosedError,
  type UserRecord,
  UserRecordFailedError,
  ValidationError,
} from '../../src/index.js';
import { createKinesisClient, createStream, readAllRecords, uniqueStreamName } from '../support/index.js';
import { createProducer } from '../support/producer.js';

describe('producer.addWithCallback', () => {
  const endpoint = inject('kinesaliteEndpoint');
  const client = createKinesisClient(endpoint);
  const streamName = uniqueStreamName('callback');
  beforeAll(async () => {
    await createStream(client, streamName, 2);
  });
  afterAll(() => client.destroy());

  it("tells one shared callback each record's outcome, and the stream holds every record once", async () => {
    const producer = createProducer(endpoint, { streamName });
    const outcomes: Array<[Error | undefined, UserRecord]> = [];
    const callback = (error: Error | undefined, record: UserRecord): void => {
      outcomes.push([error, record]);
    };
    const records = Array.from({ length: 500 }, (_, i) => ({ partitionKey: `device-${i % 7}`, data: Buffer.from(`reading ${i}`) }));
    for (const record of records) producer.addWithCallback(record, callback);
    expect(producer.outstandingRecords).toBe(500);

    await producer.flush();

    expect(producer.outstandingRecords).toBe(0);
    expect(outcomes).toHaveLength(500);
    expect(outcomes.every(([error]) => error === undefined)).toBe(true);
    expect(new Set(outcomes.map(([, record]) => record))).toEqual(new Set(records));
    const stored = (await readAllRecords(client, streamName)).flatMap((record) =>
      deaggregate(record).map((user) => Buffer.from(user.data).toString()),
    );
    expect(stored.sort()).toEqual(records.map((record) => record.data.toString()).sort());
  });

  it('tells the callback a UserRecordFailedError for a record that cannot be delivered', async () => {
    const producer = createProducer(endpoint, { streamName: uniqueStreamName('callback-missing'), recordTtl: 1000 });
    const errors: Array<Error | undefined> = [];
    producer.addWithCallback({ partitionKey: 'k', data: 'x' }, (error) => {
      errors.push(error);
    });
    await producer.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UserRecordFailedError);
  });

  it('throws at once what add() rejects at once', async () => {
    const producer = createProducer(endpoint, { streamName, maxOutstandingRecords: 1 });
    const ignore = (): void => undefined;
    expect(() => producer.addWithCallback({ partitionKey: '', data: 'x' }, ignore)).toThrow(ValidationError);
    producer.addWithCallback({ partitionKey: 'k', data: 'x' }, ignore);
    expect(() => producer.addWithCallback({ partitionKey: 'k', data: 'y' }, ignore)).toThrow(BufferFullError);
    await producer.close();
    expect(() => producer.addWithCallback({ partitionKey: 'k', data: 'z' }, ignore)).toThrow(ProducerClosedError);
  });

  it('goes on settling the other records when a callback throws, and rethrows its error on a later tick', async () => {
    const producer = createProducer(endpoint, { streamName });
    const rethrown: unknown[] = [];
    const original = globalThis.queueMicrotask;
    // The rethrow would be an uncaught exception; the test catches it where it is scheduled.
    globalThis.queueMicrotask = (task) =>
      original(() => {
        try {
          task();
        } catch (error) {
          rethrown.push(error);
        }
      });
    try {
      let told = 0;
      for (let i = 0; i < 10; i++) {
        producer.addWithCallback({ partitionKey: `k${i}`, data: 'x' }, () => {
          told++;
          if (told === 1) throw new Error('callback bug');
        });
      }
      await producer.flush();
      expect(told).toBe(10);
      await new Promise(setImmediate);
      expect(rethrown).toEqual([new Error('callback bug')]);
    } finally {
      globalThis.queueMicrotask = original;
    }
  });
});
