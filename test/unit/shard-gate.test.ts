import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShardRateLimiter } from '../../src/pipeline/limiter.js';
import { type GatedAggregate, ShardGate, type ShardLimiter } from '../../src/pipeline/shard-gate.js';

interface Item {
  readonly id: number;
  readonly deadline: number;
}
type Aggregate = GatedAggregate<Item> & { readonly name: string };

const now = (): number => Date.now();

function aggregate(name: string, shard: number, expiresAt: number, items: Item[] = [{ id: 0, deadline: expiresAt }]): Aggregate {
  return { name, shard, size: 100, expiresAt, items };
}

/** A limiter that counts what it hands out, over a real token bucket of `perSecond` aggregates a second. */
function countingLimiter(perSecond: number): ShardLimiter & { taken: number } {
  const limiter = new ShardRateLimiter({ recordsPerSecond: perSecond, bytesPerSecond: 1e9 }, now);
  return {
    taken: 0,
    tryTake(shard, records, bytes) {
      const took = limiter.tryTake(shard, records, bytes);
      if (took) this.taken++;
      return took;
    },
    waitTime: (shard, records, bytes) => limiter.waitTime(shard, records, bytes),
  };
}

function setup(options: { perSecond?: number; strictOrdering?: boolean; marginMs?: number } = {}) {
  const limiter = countingLimiter(options.perSecond ?? 2);
  const passed: string[] = [];
  const expired: string[] = [];
  const expiredParked: number[] = [];
  const unparked: number[][] = [];
  let released = 0;
  const gate = new ShardGate<Item, Aggregate>(
    limiter,
    {
      strictOrdering: options.strictOrdering ?? false,
      expiryMarginMs: options.marginMs ?? 10,
      deadlineOf: (item) => item.deadline,
    },
    {
      pass: (a) => passed.push(a.name),
      expired: (as) => expired.push(...as.map((a) => a.name)),
      expiredParked: (items) => expiredParked.push(...items.map((item) => item.id)),
      unparked: (items) => unparked.push(items.map((item) => item.id)),
      released: () => released++,
    },
    now,
  );
  return { gate, limiter, passed, expired, expiredParked, unparked, released: () => released };
}

describe('ShardGate', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes aggregates within the shard rate at once and holds the rest until tokens come', () => {
    const { gate, passed, released } = setup({ perSecond: 2 });
    for (const name of ['a', 'b', 'c']) gate.admit(aggregate(name, 0, 60_000));
    gate.admit(aggregate('other-shard', 1, 60_000));
    expect(passed).toEqual(['a', 'b', 'other-shard']);
    expect(gate.heldCount).toBe(1);
    // The bucket lets a demand through half a token early (its float tolerance): 250 ms here.
    vi.advanceTimersByTime(240);
    expect(passed).toHaveLength(3);
    vi.advanceTimersByTime(20);
    expect(passed).toEqual(['a', 'b', 'other-shard', 'c']);
    expect(gate.heldCount).toBe(0);
    expect(released()).toBeGreaterThan(0);
  });

  it('lets held aggregates through earliest deadline first', () => {
    const { gate, passed } = setup({ perSecond: 1 });
    gate.admit(aggregate('first', 0, 60_000));
    gate.admit(aggregate('late', 0, 50_000));
    gate.admit(aggregate('early', 0, 20_000));
    gate.admit(aggregate('middle', 0, 30_000));
    vi.advanceTimersByTime(3_100);
    expect(passed).toEqual(['first', 'early', 'middle', 'late']);
  });

  it('expires a held aggregate when its deadline comes within the margin, without taking tokens', () => {
    const { gate, limiter, passed, expired } = setup({ perSecond: 1, marginMs: 100 });
    gate.admit(aggregate('live', 0, 60_000));
    gate.admit(aggregate('doomed', 0, 1_500));
    gate.admit(aggregate('next', 0, 60_000));
    expect(limiter.taken).toBe(1);
    vi.advanceTimersByTime(399);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(2);
    // Due at 1,500 - 100: it leaves at 1,400 ms, a margin before its deadline, and took no token.
    expect(expired).toEqual(['doomed']);
    expect(limiter.taken).toBe(1);
    vi.advanceTimersByTime(700);
    expect(passed).toEqual(['live', 'next']);
  });

  it('never hands an expired aggregate over inside admit(): the timer does', () => {
    const { gate, expired, passed } = setup({ marginMs: 10 });
    gate.admit(aggregate('stale', 0, 1_005));
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['stale']);
    expect(passed).toEqual([]);
  });

  it('strictOrdering: one aggregate a shard until its request finishes, in arrival order', () => {
    const { gate, passed } = setup({ strictOrdering: true, perSecond: 100 });
    gate.admit(aggregate('a', 0, 60_000));
    gate.admit(aggregate('b', 0, 50_000));
    gate.admit(aggregate('c', 0, 40_000));
    gate.admit(aggregate('x', 1, 60_000));
    expect(passed).toEqual(['a', 'x']);
    gate.finished(0);
    gate.release();
    expect(passed).toEqual(['a', 'x', 'b']);
    gate.finished(0);
    gate.release();
    expect(passed).toEqual(['a', 'x', 'b', 'c']);
  });

  it('strictOrdering: a blocked shard parks its failed records, its held and later records, and new ones, then hands them back in order', () => {
    const { gate, passed, unparked } = setup({ strictOrdering: true, perSecond: 100 });
    gate.admit(
      aggregate('a', 0, 60_000, [
        { id: 1, deadline: 60_000 },
        { id: 2, deadline: 60_000 },
      ]),
    );
    gate.admit(aggregate('b', 0, 60_000, [{ id: 3, deadline: 60_000 }]));
    gate.finished(0);
    gate.block(0, [{ id: 1, deadline: 60_000 }], [{ id: 4, deadline: 60_000 }], 200);
    expect(gate.parkedShards).toBe(1);
    expect(gate.parks(0, { id: 5, deadline: 60_000 })).toBe(true);
    expect(gate.parks(1, { id: 6, deadline: 60_000 })).toBe(false);
    gate.release();
    expect(passed).toEqual(['a']);
    vi.advanceTimersByTime(200);
    expect(unparked).toEqual([[1, 3, 4, 5]]);
    expect(gate.parkedShards).toBe(0);
  });

  it('strictOrdering: expires parked records at their deadline and keeps the rest parked', () => {
    const { gate, expiredParked, unparked } = setup({ strictOrdering: true, marginMs: 0 });
    gate.block(0, [{ id: 1, deadline: 1_300 }], [{ id: 2, deadline: 60_000 }], 1_000);
    gate.parks(0, { id: 3, deadline: 1_200 });
    vi.advanceTimersByTime(201);
    expect(expiredParked).toEqual([3]);
    vi.advanceTimersByTime(100);
    expect(expiredParked).toEqual([3, 1]);
    vi.advanceTimersByTime(1_000);
    expect(unparked).toEqual([[2]]);
  });

  it('takeAll() returns every held and parked record and forgets the backoffs', () => {
    const { gate, unparked } = setup({ strictOrdering: true, perSecond: 100 });
    gate.admit(aggregate('a', 0, 60_000, [{ id: 1, deadline: 60_000 }]));
    gate.admit(aggregate('b', 0, 60_000, [{ id: 2, deadline: 60_000 }]));
    gate.block(1, [{ id: 3, deadline: 60_000 }], [], 100);
    expect(gate.takeAll().map((item) => item.id)).toEqual([2, 3]);
    vi.advanceTimersByTime(1_000);
    expect(unparked).toEqual([]);
    expect(gate.heldCount).toBe(0);
  });
});
