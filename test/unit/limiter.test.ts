import { describe, expect, it } from 'vitest';
import { ShardRateLimiter } from '../../src/pipeline/limiter.js';

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

/** 150% of a shard's limits, as the default rateLimit gives. */
const DEFAULT_RATES = { recordsPerSecond: 1500, bytesPerSecond: 1.5 * 1024 * 1024 };

describe('ShardRateLimiter', () => {
  it('lets a new shard take a full second of records, then refuses', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(DEFAULT_RATES, clock.now);
    expect(limiter.tryTake(0, 1500, 1500)).toBe(true);
    expect(limiter.tryTake(0, 1, 1)).toBe(false);
    expect(limiter.waitTime(0, 1, 1)).toBe(1);
  });

  it('takes nothing when either bucket is short', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter({ recordsPerSecond: 100, bytesPerSecond: 1000 }, clock.now);
    expect(limiter.tryTake(0, 10, 1000)).toBe(true);
    // Records are plentiful (90 left) but bytes are empty: the records must not be taken either.
    expect(limiter.tryTake(0, 90, 1)).toBe(false);
    clock.advance(1000);
    expect(limiter.tryTake(0, 100, 0)).toBe(true);
    expect(limiter.tryTake(0, 1, 0)).toBe(false);
  });

  it('refills at the configured rate, up to one burst', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter({ recordsPerSecond: 1000, bytesPerSecond: 1_000_000 }, clock.now);
    expect(limiter.tryTake(3, 1000, 0)).toBe(true);
    clock.advance(250);
    expect(limiter.tryTake(3, 251, 0)).toBe(false);
    expect(limiter.tryTake(3, 250, 0)).toBe(true);
    clock.advance(60_000);
    expect(limiter.tryTake(3, 1000, 0)).toBe(true);
    expect(limiter.tryTake(3, 1, 0)).toBe(false);
  });

  it('saves up burstSeconds of allowance', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter({ recordsPerSecond: 100, bytesPerSecond: 10_000, burstSeconds: 3 }, clock.now);
    expect(limiter.tryTake(0, 300, 30_000)).toBe(true);
    expect(limiter.tryTake(0, 1, 0)).toBe(false);
  });

  it('keeps each shard to its own buckets', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(DEFAULT_RATES, clock.now);
    expect(limiter.tryTake(0, 1500, 0)).toBe(true);
    expect(limiter.tryTake(0, 1, 0)).toBe(false);
    expect(limiter.tryTake(1, 1500, 0)).toBe(true);
    expect(limiter.tryTake(4095, 1500, 0)).toBe(true);
    expect(limiter.tryTake(4094, 1, 0)).toBe(true);
  });

  it('tells how long until a demand fits, and the demand fits then', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter({ recordsPerSecond: 1000, bytesPerSecond: 100_000 }, clock.now);
    expect(limiter.waitTime(0, 500, 50_000)).toBe(0);
    expect(limiter.tryTake(0, 1000, 50_000)).toBe(true);
    // Records are the scarcer bucket: 500 records take 500 ms, 50,000 bytes are already there.
    expect(limiter.waitTime(0, 500, 50_000)).toBe(500);
    clock.advance(499);
    expect(limiter.tryTake(0, 500, 50_000)).toBe(false);
    clock.advance(1);
    expect(limiter.waitTime(0, 500, 50_000)).toBe(0);
    expect(limiter.tryTake(0, 500, 50_000)).toBe(true);
  });

  it('lets a request larger than a whole bucket through once the bucket is full, then makes the shard wait off the debt', () => {
    const clock = manualClock();
    // rateLimit low enough that one 5 MiB request exceeds a second's allowance of 1 MiB.
    const limiter = new ShardRateLimiter({ recordsPerSecond: 1000, bytesPerSecond: 1024 * 1024 }, clock.now);
    const request = 5 * 1024 * 1024;
    expect(limiter.waitTime(0, 500, request)).toBe(0);
    expect(limiter.tryTake(0, 500, request)).toBe(true);
    // 4 MiB of debt plus a full 1 MiB bucket: 5 s before the next such request.
    expect(limiter.waitTime(0, 500, request)).toBe(5000);
    clock.advance(4999);
    expect(limiter.tryTake(0, 500, request)).toBe(false);
    clock.advance(1);
    expect(limiter.tryTake(0, 500, request)).toBe(true);
  });

  it('never stalls a demand above capacity at any rate, including rates a float32 cannot hold exactly', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter({ recordsPerSecond: 333.3333, bytesPerSecond: 12_345.678 }, clock.now);
    for (let i = 0; i < 20; i++) {
      const wait = limiter.waitTime(7, 500, 5 * 1024 * 1024);
      clock.advance(wait);
      expect(limiter.tryTake(7, 500, 5 * 1024 * 1024)).toBe(true);
    }
  });

  it('forgets every shard on reset, so each starts with a full bucket', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(DEFAULT_RATES, clock.now);
    expect(limiter.tryTake(2, 1500, 0)).toBe(true);
    expect(limiter.tryTake(2, 1, 0)).toBe(false);
    limiter.reset();
    expect(limiter.tryTake(2, 1500, 0)).toBe(true);
  });

  it('tolerates a clock that stands still or steps back', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter({ recordsPerSecond: 10, bytesPerSecond: 10 }, clock.now);
    expect(limiter.tryTake(0, 10, 10)).toBe(true);
    clock.advance(-500);
    expect(limiter.tryTake(0, 1, 1)).toBe(false);
    expect(limiter.waitTime(0, 1, 1)).toBe(50);
  });

  it.each([
    [{ recordsPerSecond: 0, bytesPerSecond: 1 }, 'recordsPerSecond must be a finite number above 0; got 0'],
    [{ recordsPerSecond: 1, bytesPerSecond: Number.NaN }, 'bytesPerSecond must be a finite number above 0; got NaN'],
    [{ recordsPerSecond: 1, bytesPerSecond: 1, burstSeconds: -1 }, 'burstSeconds must be a finite number above 0; got -1'],
  ])('rejects options %j', (options, message) => {
    expect(() => new ShardRateLimiter(options)).toThrow(message);
  });

  it('rejects a shard that is not an index', () => {
    const limiter = new ShardRateLimiter(DEFAULT_RATES);
    expect(() => limiter.tryTake(-1, 1, 1)).toThrow('shard must be a shard map index');
    expect(() => limiter.waitTime(1.5, 1, 1)).toThrow('shard must be a shard map index');
  });
});
