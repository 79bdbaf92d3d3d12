import { describe, expect, it } from 'vitest';
import { MAX_UNSYNCED_RECORDS, SpoolSink } from '../../src/cli/send/spool-sink.js';
import type { LineRecord } from '../../src/cli/lines/line-record-options.js';

/** A producer whose enqueue() gives the records of one sync the same promise, as the spool does; the test ends each sync. */
function spoolingProducer(): { enqueue: (record: LineRecord) => Promise<void>; sync: (error?: Error) => void; keys: string[] } {
  const keys: string[] = [];
  let batch: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;
  return {
    keys,
    enqueue: (record) => {
      keys.push(record.partitionKey);
      if (batch === undefined) {
        let resolve = (): void => undefined;
        let reject = (_error: Error): void => undefined;
        const promise = new Promise<void>((done, fail) => {
          resolve = done;
          reject = fail;
        });
        batch = { promise, resolve, reject };
      }
      return batch.promise;
    },
    sync: (error) => {
      const ended = batch;
      batch = undefined;
      if (error === undefined) ended?.resolve();
      else ended?.reject(error);
    },
  };
}

const record = (key: string): LineRecord => ({ partitionKey: key, data: Buffer.from(key) });
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SpoolSink', () => {
  it('spools each record and tells of those durable a sync at a time, in order', async () => {
    const producer = spoolingProducer();
    const durable: number[] = [];
    const sink = new SpoolSink(
      producer,
      new AbortController().signal,
      (records) => durable.push(records),
      () => undefined,
    );
    await sink.allDurable();
    sink.emit(record('a'));
    sink.emit(record('b'));
    producer.sync();
    sink.emit(record('c'));
    expect(producer.keys).toEqual(['a', 'b', 'c']);
    let allDurable = false;
    void sink.allDurable().then(() => (allDurable = true));
    await turn();
    expect([durable, allDurable]).toEqual([[2], false]);
    producer.sync();
    await turn();
    expect([durable, allDurable]).toEqual([[2, 1], true]);
  });

  it('is backlogged at MAX_UNSYNCED_RECORDS waiting to be durable, and drains once fewer wait', async () => {
    const producer = spoolingProducer();
    const sink = new SpoolSink(
      producer,
      new AbortController().signal,
      () => undefined,
      () => undefined,
    );
    for (let i = 0; i < MAX_UNSYNCED_RECORDS - 1; i++) sink.emit(record('k'));
    expect(sink.backlogged).toBe(false);
    producer.sync();
    sink.emit(record('k'));
    expect(sink.backlogged).toBe(true);
    let drained = false;
    void sink.drain().then(() => (drained = true));
    producer.sync();
    await turn();
    expect(drained).toBe(true);
    expect(sink.backlogged).toBe(false);
  });

  it('tells of each refused record, unless the run was stopped, and drains at once when stopped', async () => {
    const producer = spoolingProducer();
    const refused: unknown[] = [];
    const stop = new AbortController();
    const sink = new SpoolSink(
      producer,
      stop.signal,
      () => undefined,
      (error) => refused.push(error),
    );
    sink.emit(record('a'));
    sink.emit(record('b'));
    producer.sync(new Error('full'));
    await turn();
    expect(refused).toHaveLength(2);
    sink.emit(record('c'));
    const durable = sink.allDurable();
    stop.abort();
    await durable;
    await sink.drain();
    producer.sync(new Error('closed'));
    await turn();
    expect(refused).toHaveLength(2);
  });
});
