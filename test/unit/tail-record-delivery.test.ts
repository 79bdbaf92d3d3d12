import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RecordDelivery } from '../../src/cli/tail/record-delivery.js';
import { AckedPrefix } from '../../src/cli/tail/acked-prefix.js';
import type { KinesisProducer } from '../../src/producer.js';
import { UserRecordFailedError, ValidationError } from '../../src/records.js';

/** A producer whose add() and enqueue() answer as the test scripts them. */
function scriptedProducer(answers: Array<'ok' | 'fail' | 'invalid'>): { producer: KinesisProducer; calls: number } {
  const state = { calls: 0, producer: undefined as unknown as KinesisProducer };
  const answer = (): Promise<never> | Promise<void> => {
    const next = answers[state.calls++] ?? 'ok';
    if (next === 'ok') return Promise.resolve();
    if (next === 'invalid') return Promise.reject(new ValidationError('data', 'record is too large'));
    return Promise.reject(
      new UserRecordFailedError({ partitionKey: 'k', data: '' }, [
        { delayMs: 0, durationMs: 1, success: false, errorCode: 'RequestTimeout' },
      ]),
    );
  };
  state.producer = {
    add: answer,
    enqueue: answer,
    addWithCallback: (r: unknown, callback: (error: Error | undefined, record: unknown) => void) =>
      void answer().then(
        () => callback(undefined, r),
        (error: Error) => callback(error, r),
      ),
    ready: () => Promise.resolve(),
    outstandingRecords: 0,
    outstandingBytes: 0,
    flush: () => Promise.resolve(),
  } as unknown as KinesisProducer;
  return state;
}

const LIMITS = { maxRecords: 100, maxBytes: 1024 };
const record = (text: string): { partitionKey: string; data: Buffer } => ({ partitionKey: 'k', data: Buffer.from(text) });

describe('RecordDelivery', () => {
  let logs: string[];
  beforeEach(() => {
    vi.useFakeTimers();
    logs = [];
  });
  afterEach(() => vi.useRealTimers());

  it("settles a record in its file's prefix once stored", async () => {
    const { producer } = scriptedProducer(['ok']);
    const delivery = new RecordDelivery(producer, LIMITS, (message) => logs.push(message), new AbortController().signal);
    const acks = new AckedPrefix(0);
    delivery.send(record('a'), 's', acks, 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(acks.offset).toBe(2);
    expect(delivery.delivered).toBe(1);
  });

  it('adds a failed record again after a backoff, holding the prefix until it is stored', async () => {
    const scripted = scriptedProducer(['fail', 'fail', 'ok']);
    const delivery = new RecordDelivery(scripted.producer, LIMITS, (message) => logs.push(message), new AbortController().signal);
    const acks = new AckedPrefix(0);
    delivery.send(record('a'), 's', acks, 2);
    await vi.advanceTimersByTimeAsync(999);
    expect(scripted.calls).toBe(1);
    expect(acks.offset).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(scripted.calls).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(scripted.calls).toBe(3);
    expect(acks.offset).toBe(2);
    expect(delivery.retried).toBe(2);
    expect(logs[0]).toBe('a record failed (RequestTimeout); adding it again in 1,000 ms');
  });

  it('passes over a record the producer rejects as invalid, counting it', async () => {
    const { producer } = scriptedProducer(['invalid', 'ok']);
    const delivery = new RecordDelivery(producer, LIMITS, (message) => logs.push(message), new AbortController().signal);
    const acks = new AckedPrefix(0);
    delivery.send(record('too large'), 's', acks, 10);
    delivery.send(record('b'), 's', acks, 12);
    await vi.advanceTimersByTimeAsync(0);
    expect(acks.offset).toBe(12);
    expect(delivery.failed).toBe(1);
    expect(logs[0]).toMatch(/^a record of 9 bytes was rejected and passed over/);
  });

  it('once stopped, adds nothing again: the record stays behind the checkpoint', async () => {
    const scripted = scriptedProducer(['fail']);
    const delivery = new RecordDelivery(scripted.producer, LIMITS, () => undefined, new AbortController().signal);
    const acks = new AckedPrefix(0);
    delivery.send(record('a'), 's', acks, 2);
    await vi.advanceTimersByTimeAsync(0);
    delivery.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(scripted.calls).toBe(1);
    expect(acks.offset).toBe(0);
  });

  it('with a spool, settles once enqueue() says the record is durable', async () => {
    const { producer } = scriptedProducer(['ok']);
    const enqueue = vi.spyOn(producer, 'enqueue');
    const delivery = new RecordDelivery(producer, LIMITS, () => undefined, new AbortController().signal, true);
    const acks = new AckedPrefix(0);
    delivery.send(record('a'), 's', acks, 2);
    await delivery.settled();
    expect(enqueue).toHaveBeenCalledWith({ partitionKey: 'k', data: Buffer.from('a'), streamName: 's' });
    expect(acks.offset).toBe(2);
  });
});

describe('RecordDelivery at the producer limits', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  /** A producer that holds what it is given until the test settles it, counting its outstanding records. */
  function holdingProducer(): {
    producer: KinesisProducer;
    added: string[];
    settleOldest: (count: number) => void;
  } {
    const held: Array<{ record: { data: Uint8Array }; callback: (error: Error | undefined, record: unknown) => void }> = [];
    const added: string[] = [];
    const producer = {
      addWithCallback: (record: { data: Uint8Array }, callback: (error: Error | undefined, record: unknown) => void) => {
        added.push(Buffer.from(record.data).toString());
        held.push({ record, callback });
      },
      get outstandingRecords() {
        return held.length;
      },
      get outstandingBytes() {
        return held.reduce((sum, item) => sum + item.record.data.length + 1, 0);
      },
      flush: () => Promise.resolve(),
    } as unknown as KinesisProducer;
    const settleOldest = (count: number): void => {
      for (const item of held.splice(0, count)) item.callback(undefined, item.record);
    };
    return { producer, added, settleOldest };
  }

  it('keeps records back in order while the producer is full, and hands them over as settlements free room', async () => {
    const { producer, added, settleOldest } = holdingProducer();
    const delivery = new RecordDelivery(producer, { maxRecords: 2, maxBytes: 1024 }, () => undefined, new AbortController().signal);
    const acks = new AckedPrefix(0);
    for (const [index, text] of ['a', 'b', 'c', 'd', 'e'].entries()) delivery.send(record(text), 's', acks, 2 * (index + 1));
    expect(added).toEqual(['a', 'b']);
    let ready = false;
    void delivery.ready().then(() => (ready = true));
    settleOldest(1);
    await Promise.resolve();
    expect(added).toEqual(['a', 'b', 'c']);
    expect(acks.offset).toBe(2);
    settleOldest(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(added).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(ready).toBe(true);
    settleOldest(2);
    expect(acks.offset).toBe(10);
    expect(delivery.delivered).toBe(5);
  });

  it('keeps records back while the bytes would pass the limit', async () => {
    const { producer, added, settleOldest } = holdingProducer();
    const delivery = new RecordDelivery(producer, { maxRecords: 100, maxBytes: 7 }, () => undefined, new AbortController().signal);
    const acks = new AckedPrefix(0);
    delivery.send(record('aaa'), 's', acks, 4);
    delivery.send(record('bbb'), 's', acks, 8);
    delivery.send(record('c'), 's', acks, 10);
    expect(added).toEqual(['aaa']);
    settleOldest(1);
    await Promise.resolve();
    expect(added).toEqual(['aaa', 'bbb', 'c']);
  });

  it('ready() resolves once the tailer stops, though records still wait', async () => {
    const { producer } = holdingProducer();
    const stop = new AbortController();
    const delivery = new RecordDelivery(producer, { maxRecords: 1, maxBytes: 1024 }, () => undefined, stop.signal);
    const acks = new AckedPrefix(0);
    delivery.send(record('a'), 's', acks, 2);
    delivery.send(record('b'), 's', acks, 4);
    let ready = false;
    void delivery.ready().then(() => (ready = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(ready).toBe(false);
    stop.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(ready).toBe(true);
  });
});
