import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Batch } from '../../src/pipeline/collector.js';
import { SendQueue } from '../../src/pipeline/send-queue.js';

interface Entry {
  readonly id: number;
  readonly size: number;
  readonly oldestAt: number;
  readonly expiresAt: number;
}

function entry(id: number, expiresAt: number): Entry {
  return { id, size: 10, oldestAt: 0, expiresAt };
}

function batch(...entries: Entry[]): Batch<Entry> {
  return { entries, size: 10 * entries.length, oldestAt: 0, expiresAt: Math.min(...entries.map((e) => e.expiresAt)) };
}

function setup() {
  const expired: number[] = [];
  const queue = new SendQueue<Entry>(
    (entries) => expired.push(...entries.map((e) => e.id)),
    () => Date.now(),
  );
  return { queue, expired };
}

const ids = (b: Batch<Entry> | undefined): number[] | undefined => b?.entries.map((e) => e.id);

describe('SendQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands batches out in the order they came', () => {
    const { queue } = setup();
    queue.push(batch(entry(1, 9_000)));
    queue.push(batch(entry(2, 5_000)));
    expect(queue.length).toBe(2);
    expect(ids(queue.shift())).toEqual([1]);
    expect(ids(queue.shift())).toEqual([2]);
    expect(queue.shift()).toBeUndefined();
  });

  it('expires entries whose deadline passes while they wait, from its timer, and keeps their live neighbours', () => {
    const { queue, expired } = setup();
    queue.push(batch(entry(1, 1_500), entry(2, 9_000)));
    queue.push(batch(entry(3, 1_200)));
    vi.advanceTimersByTime(200);
    expect(expired).toEqual([3]);
    vi.advanceTimersByTime(300);
    expect(expired).toEqual([3, 1]);
    const left = queue.shift();
    expect(ids(left)).toEqual([2]);
    expect(left).toMatchObject({ size: 10, expiresAt: 9_000 });
    expect(queue.shift()).toBeUndefined();
  });

  it('leaves expired entries out of the batch shift() hands out, and hands them over from the timer only', () => {
    const { queue, expired } = setup();
    queue.push(batch(entry(1, 1_100), entry(2, 9_000)));
    // The clock moves on while no timer runs, as when the event loop was busy.
    vi.setSystemTime(1_200);
    expect(ids(queue.shift())).toEqual([2]);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([1]);
  });

  it('takeAll() returns every entry still queued, and an idle queue keeps no timer', () => {
    const { queue, expired } = setup();
    queue.push(batch(entry(1, 5_000)));
    queue.push(batch(entry(2, 5_000), entry(3, 5_000)));
    expect(queue.takeAll().map((e) => e.id)).toEqual([1, 2, 3]);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual([]);
  });
});
