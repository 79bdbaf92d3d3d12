import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LineRecord } from '../../src/cli/lines/line-record-options.js';
import { LineRecordReader } from '../../src/cli/lines/line-record-reader.js';
import { DeliverySink, type SinkProducer } from '../../src/cli/send/delivery-sink.js';
import { forwardInput } from '../../src/cli/send/forward-input.js';
import type { RecordCallback } from '../../src/records.js';

/** A producer stand-in that holds what it is given until the test settles it. */
class HoldingProducer implements SinkProducer {
  readonly held: Array<{ record: LineRecord; callback: RecordCallback }> = [];
  readonly taken: string[] = [];
  #waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  get outstandingRecords(): number {
    return this.held.length;
  }

  get outstandingBytes(): number {
    return this.held.reduce((sum, { record }) => sum + record.data.length + record.partitionKey.length, 0);
  }

  addWithCallback(record: LineRecord, callback: RecordCallback): void {
    if (this.held.length >= this.capacity) throw new Error('overfilled');
    this.held.push({ record, callback });
    this.taken.push(record.data.toString());
  }

  ready(): Promise<void> {
    if (this.held.length < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Settles the oldest `count` records, the first `failures` of them failed. */
  settle(count: number, failures = 0): void {
    for (const [i, { record, callback }] of this.held.splice(0, count).entries())
      callback(i < failures ? new Error(`lost ${record.data.toString()}`) : undefined, record);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

const record = (text: string): LineRecord => ({ partitionKey: 'k', data: Buffer.from(text) });

describe('DeliverySink', () => {
  it('hands records on while there is room, keeps the rest back in order, and drains them as room comes', async () => {
    const producer = new HoldingProducer(2);
    const failures: Error[] = [];
    const sink = new DeliverySink(producer, { maxRecords: 2, maxBytes: 1_000 }, (error) => failures.push(error));
    for (const text of ['a', 'b', 'c', 'd', 'e']) sink.emit(record(text));
    expect(producer.taken).toEqual(['a', 'b']);
    expect(sink.backlogged).toBe(true);

    const drained = sink.drain();
    expect(sink.drain()).toBe(drained);
    producer.settle(2, 1);
    await new Promise(setImmediate);
    expect(producer.taken).toEqual(['a', 'b', 'c', 'd']);
    producer.settle(2);
    await drained;

    expect(producer.taken).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(sink.backlogged).toBe(false);
    expect([sink.added, sink.delivered]).toEqual([5, 3]);
    expect(failures.map((error) => error.message)).toEqual(['lost a']);
  });

  it('fails a record the producer refuses at once, and goes on', () => {
    const producer = new HoldingProducer(1);
    const failures: string[] = [];
    const refusing: SinkProducer = {
      ...producer,
      outstandingRecords: 0,
      outstandingBytes: 0,
      ready: () => Promise.resolve(),
      addWithCallback: (line) => {
        if (line.data.toString() === 'bad') throw new Error('refused');
        producer.addWithCallback(line as LineRecord, () => undefined);
      },
    };
    const sink = new DeliverySink(refusing, { maxRecords: 10, maxBytes: 1_000 }, (error) => failures.push(error.message));
    sink.emit(record('bad'));
    sink.emit(record('good'));
    expect(failures).toEqual(['refused']);
    expect(producer.taken).toEqual(['good']);
  });

  it('keeps a record back while the bytes limit has no room for it', () => {
    const producer = new HoldingProducer(100);
    const sink = new DeliverySink(producer, { maxRecords: 100, maxBytes: 10 }, () => undefined);
    sink.emit(record('12345678'));
    sink.emit(record('xy'));
    expect(producer.taken).toEqual(['12345678']);
    expect(sink.backlogged).toBe(true);
  });
});

describe('forwardInput', () => {
  it('pauses the input while the sink is backlogged, and reads it all', async () => {
    const producer = new HoldingProducer(3);
    const sink = new DeliverySink(producer, { maxRecords: 3, maxBytes: 1_000 }, () => undefined);
    const input = new PassThrough();
    const done = forwardInput(input, new LineRecordReader({ format: 'lines', key: 'k' }), sink, new AbortController().signal);
    input.write('1\n2\n3\n4\n5\n');
    await new Promise(setImmediate);
    expect(input.isPaused()).toBe(true);
    input.end('6\nlast without a line break');
    while (producer.held.length > 0) {
      producer.settle(producer.held.length);
      await new Promise(setImmediate);
    }
    await done;
    expect(producer.taken).toEqual(['1', '2', '3', '4', '5', '6', 'last without a line break']);
  });

  it('stops reading on abort, sends what it read but a last partial line, and rejects on an input error', async () => {
    const producer = new HoldingProducer(100);
    const sink = new DeliverySink(producer, { maxRecords: 100, maxBytes: 1_000 }, () => undefined);
    const input = new PassThrough();
    const stop = new AbortController();
    const done = forwardInput(input, new LineRecordReader({ format: 'lines', key: 'k' }), sink, stop.signal);
    input.write('a\nb\npart');
    await new Promise(setImmediate);
    stop.abort();
    await done;
    expect(producer.taken).toEqual(['a', 'b']);

    const failing = new PassThrough();
    const reading = forwardInput(failing, new LineRecordReader({ format: 'lines', key: 'k' }), sink, new AbortController().signal);
    failing.destroy(new Error('ENOENT: no such file'));
    await expect(reading).rejects.toThrow('ENOENT');
  });
});
