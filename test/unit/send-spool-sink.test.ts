import { describe, expect, it } from 'vitest';
import { MAX_UNSYNCED_RECORDS, SpoolSink } from '../../src/cli/send/spool-sink.js';
import type { LineRecord } from '../../src/cli/lines/line-record-reader.js';

/** A producer whose enqueue() promises the test settles, in order. */
function spoolingProducer(): {
  enqueue: (record: LineRecord) => Promise<void>;
  settle: (count: number, error?: Error) => void;
  keys: string[];
} {
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const keys: string[] = [];
  return {
    keys,
    enqueue: (record) => {
      keys.push(record.partitionKey);
      return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
    },
    settle: (count, error) => {
      for (const each of pending.splice(0, count)) {
        if (error === undefined) each.resolve();
        else each.reject(error);
      }
    },
  };
}

const record = (key: string): LineRecord => ({ partitionKey: key, data: Buffer.from(key) });
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SpoolSink', () => {
  it('spools each record, tells of each one durable, and drains once all are', async () => {
    const producer = spoolingProducer();
    let durable = 0;
    const sink = new SpoolSink(
      producer,
      new AbortController().signal,
      () => durable++,
      () => undefined,
    );
    await sink.drain();
    sink.emit(record('a'));
    sink.emit(record('b'));
    expect(producer.keys).toEqual(['a', 'b']);
    let drained = false;
    void sink.drain().then(() => (drained = true));
    producer.settle(1);
    await turn();
    expect([durable, drained]).toEqual([1, false]);
    producer.settle(1);
    await turn();
    expect([durable, drained]).toEqual([2, true]);
  });

  it('is backlogged at MAX_UNSYNCED_RECORDS waiting to be durable', async () => {
    const producer = spoolingProducer();
    const sink = new SpoolSink(
      producer,
      new AbortController().signal,
      () => undefined,
      () => undefined,
    );
    for (let i = 0; i < MAX_UNSYNCED_RECORDS - 1; i++) sink.emit(record('k'));
    expect(sink.backlogged).toBe(false);
    sink.emit(record('k'));
    expect(sink.backlogged).toBe(true);
    producer.settle(MAX_UNSYNCED_RECORDS);
    await sink.drain();
    expect(sink.backlogged).toBe(false);
  });

  it('tells of a refused record, unless the run was stopped, and drains at once when stopped', async () => {
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
    producer.settle(1, new Error('full'));
    await turn();
    expect(refused).toHaveLength(1);
    sink.emit(record('b'));
    const drained = sink.drain();
    stop.abort();
    await drained;
    producer.settle(1, new Error('closed'));
    await turn();
    expect(refused).toHaveLength(1);
  });
});
