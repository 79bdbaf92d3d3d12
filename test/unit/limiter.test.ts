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

  it('rejects a shard that is not an index', () => {
    const limiter = new ShardRateLimiter(DEFAULT_RATES);
    expect(() => limiter.tryTake(-1, 1, 1)).toThrow('shard must be a shard map index');
    expect(() => limiter.waitTime(1.5, 1, 1)).toThrow('shard must be a shard map index');
  });
});

/** The service's limits and the default rateLimit of 150 %. */
const SERVICE = { recordsPerSecond: 1000, bytesPerSecond: 1024 * 1024 };
const CEILING = { recordsPerSecond: 1500, bytesPerSecond: 1.5 * 1024 * 1024 };
const ADAPTIVE = { ...CEILING, adaptive: { initialRatio: 100 / 150 } };

/**
 * The default climb at `rate` records/s (the service's limit is 1,000), in records/s per second:
 * 0.067 % of the limit times (limit / rate)⁴ plus 5 % of it times (rate / limit)⁴, 8 % at most.
 */
function defaultClimb(rate: number): number {
  return Math.min(80, 1000 * (0.00067 * (1000 / rate) ** 4 + 0.05 * (rate / 1000) ** 4));
}

describe('ShardRateLimiter, adaptive', () => {
  /** A request sent at `sentAt` that stored 95 % of its bytes on the shard and had 5 % throttled. */
  function throttleAfterSuccess(limiter: ShardRateLimiter, shard: number, sentAt: number): void {
    limiter.accepted(shard, 95_000, sentAt);
    limiter.throttled(shard, 5000, sentAt);
  }

  /** Lowers shard 0 by `times` decreases, each answering a request sent just after the one before, throttled whole. */
  function decrease(limiter: ShardRateLimiter, clock: ReturnType<typeof manualClock>, times: number): void {
    for (let i = 0; i < times; i++) {
      clock.advance(10);
      limiter.throttled(0, 100_000, clock.now());
    }
  }

  it("starts each shard at the service's limits, not at rateLimit %, with empty buckets", () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    expect(limiter.rate(0).bytesPerSecond).toBeCloseTo(SERVICE.bytesPerSecond);
    // Writers that start together must not each spend a second's burst at once.
    expect(limiter.tryTake(0, 1, 0)).toBe(false);
    expect(limiter.waitTime(0, 100, 0)).toBe(100);
    clock.advance(1000);
    expect(limiter.tryTake(0, 1000, 0)).toBe(true);
    expect(limiter.tryTake(0, 1, 0)).toBe(false);
  });

  it("lowers a throttled shard's rate by 20 % before it has settled, once for the requests sent before the decrease, and shrinks its buckets", () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    limiter.rate(0);
    clock.advance(1000);
    // The shard uses its whole rate, 1,000 records/s, in a request sent now.
    expect(limiter.tryTake(0, 1000, 0)).toBe(true);
    const sentBefore = clock.now();
    throttleAfterSuccess(limiter, 0, sentBefore);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(800);
    // Throttles of requests sent before the decrease answer for the old rate, however many.
    clock.advance(400);
    limiter.throttled(0, 500_000, sentBefore);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(800);
    // A request sent after it, at the new rate, throttled: that rate is still too high, 20 % off again.
    expect(limiter.tryTake(0, 320, 0)).toBe(true);
    throttleAfterSuccess(limiter, 0, clock.now());
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(640);
    // The bucket holds at most one second at the new rate.
    clock.advance(5000);
    expect(limiter.tryTake(0, 640, 0)).toBe(true);
    expect(limiter.waitTime(0, 2, 0)).toBeGreaterThan(0);
  });

  it('keeps its rate while less than 2 % of the bytes of requests sent since the last decrease were throttled', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    limiter.rate(0);
    clock.advance(1000);
    expect(limiter.tryTake(0, 1000, 0)).toBe(true);
    limiter.accepted(0, 98_000, clock.now());
    limiter.throttled(0, 1000, clock.now());
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(1000);
    // The next throttle brings the share to 2 %.
    limiter.throttled(0, 1000, clock.now());
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(800);
    // What requests sent before the decrease stored does not dilute the next share.
    const decreasedAt = clock.now();
    clock.advance(100);
    limiter.accepted(0, 1_000_000, decreasedAt - 1);
    limiter.throttled(0, 1000, clock.now());
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(640);
  });

  it('starts a decrease from the rate the shard used where that is lower, from half its allowed rate at least', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    limiter.rate(0);
    // A writer short of CPU: allowed 1,000 records/s, it takes 800 in a second.
    clock.advance(1000);
    expect(limiter.tryTake(0, 800, 0)).toBe(true);
    throttleAfterSuccess(limiter, 0, clock.now());
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(640);
    // It then takes nothing for a second: the decrease starts from half of 640.
    clock.advance(1000);
    throttleAfterSuccess(limiter, 0, clock.now());
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(256);
  });

  it("climbs 5 % of the service's limit a second at the limit while it holds records back, less below it, up to rateLimit %", () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    limiter.rate(0);
    // At the limit and holding records back: 50.7 records/s more a second.
    expect(limiter.tryTake(0, 1000, 0)).toBe(false);
    clock.advance(100);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(1000 + defaultClimb(1000) / 10);
    // A new shard, 20 % down at once, then holding records back.
    const fallenLimiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    fallenLimiter.rate(0);
    decrease(fallenLimiter, clock, 1);
    const fallen = fallenLimiter.rate(0).recordsPerSecond;
    expect(fallen).toBeCloseTo(800);
    // At 80 % of the limit, 22 records/s more a second.
    expect(fallenLimiter.tryTake(0, 1000, 0)).toBe(false);
    clock.advance(100);
    expect(fallenLimiter.rate(0).recordsPerSecond).toBeCloseTo(fallen + defaultClimb(fallen) / 10);
    clock.advance(600_000);
    expect(fallenLimiter.rate(0).recordsPerSecond).toBeCloseTo(1500);
    expect(fallenLimiter.rate(0).ratio).toBe(1);
  });

  it("climbs faster the further below half the service's limit, with (limit / rate)⁴, 8 % of the limit a second at most", () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    limiter.rate(0);
    // Five decreases: 1,000 × 0.8⁵ records/s, about a third of the limit. Then it holds records back.
    decrease(limiter, clock, 5);
    const third = 1000 * 0.8 ** 5;
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(third);
    expect(limiter.tryTake(0, 10_000, 0)).toBe(false);
    clock.advance(100);
    // 0.067 % of the limit a second times (1,000 / 327.68)⁴: 59 records/s more a second.
    expect(defaultClimb(third)).toBeCloseTo(58.7, 1);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(third + defaultClimb(third) / 10);
    // Two more: about a fifth of the limit, where the power would give 35 %, the cap 8 %.
    decrease(limiter, clock, 2);
    const fifth = limiter.rate(0).recordsPerSecond;
    expect(fifth).toBeLessThan(220);
    expect(limiter.tryTake(0, 10_000, 0)).toBe(false);
    clock.advance(100);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(fifth + 8);
  });

  it('keeps its rate while it holds nothing back, as a writer short of CPU or of records', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    limiter.rate(0);
    clock.advance(1000);
    expect(limiter.tryTake(0, 1000, 0)).toBe(true);
    throttleAfterSuccess(limiter, 0, clock.now());
    clock.advance(2000);
    // Every demand passes: the writer sends less than its rate allows.
    expect(limiter.tryTake(0, 100, 0)).toBe(true);
    clock.advance(10_000);
    expect(limiter.tryTake(0, 100, 0)).toBe(true);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(800);
    // Refused once, it climbs from the next refill on.
    expect(limiter.tryTake(0, 10_000, 0)).toBe(false);
    clock.advance(100);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(800 + defaultClimb(800) / 10);
  });

  /** A clock and an adaptive limiter whose shard 0 has started, at the service's limits. */
  function adaptiveShard(): { clock: ReturnType<typeof manualClock>; limiter: ShardRateLimiter } {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    limiter.rate(0);
    return { clock, limiter };
  }

  /** Shard 0 stores a quarter second of its allowed bytes, without a throttle, in a request sent now. */
  function storeQuarterSecond(limiter: ShardRateLimiter, clock: ReturnType<typeof manualClock>): void {
    clock.advance(10);
    limiter.accepted(0, limiter.rate(0).bytesPerSecond / 4, clock.now());
  }

  it('cuts 20 % × √(rate / limit) once the shard has settled: a quarter second of its allowed bytes stored since a decrease, without a throttle', () => {
    const { clock, limiter } = adaptiveShard();
    // Before it settles, every decrease takes the full 20 %: five of them, 1,000 × 0.8⁵ records/s.
    decrease(limiter, clock, 5);
    const third = 1000 * 0.8 ** 5;
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(third);
    storeQuarterSecond(limiter, clock);
    // At 327.68 records/s, a third of the limit: 20 % × √0.32768 (11.4 %) comes off.
    decrease(limiter, clock, 1);
    const settled = third * (1 - 0.2 * Math.sqrt(third / 1000));
    expect(settled).toBeCloseTo(290.2, 1);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(settled);
    // It stays settled through the next decreases.
    decrease(limiter, clock, 1);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(settled * (1 - 0.2 * Math.sqrt(settled / 1000)));
  });

  it("cuts the full 20 % above the service's limit, settled or not", () => {
    const { clock, limiter } = adaptiveShard();
    decrease(limiter, clock, 1);
    storeQuarterSecond(limiter, clock);
    expect(limiter.tryTake(0, 10_000, 0)).toBe(false);
    clock.advance(20_000);
    const above = limiter.rate(0).recordsPerSecond;
    expect(above).toBeGreaterThan(1200);
    // It took nothing in the last second, so the decrease starts from half its rate.
    limiter.throttled(0, 100_000, clock.now());
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(above * 0.5 * 0.8);
  });

  it('does not settle before its first decrease, while the burst allowance stores everything', () => {
    const { clock, limiter } = adaptiveShard();
    storeQuarterSecond(limiter, clock);
    storeQuarterSecond(limiter, clock);
    decrease(limiter, clock, 2);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(640);
  });

  it('does not settle while any byte of a request sent since the last decrease was throttled', () => {
    const { clock, limiter } = adaptiveShard();
    decrease(limiter, clock, 1);
    // 1 % throttled: under the 2 % that lowers the rate, but the shard is not at ease.
    clock.advance(10);
    limiter.accepted(0, 198_000, clock.now());
    limiter.throttled(0, 2000, clock.now());
    storeQuarterSecond(limiter, clock);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(800);
    decrease(limiter, clock, 1);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(640);
  });

  it('forgets that a shard settled on reset', () => {
    const { clock, limiter } = adaptiveShard();
    decrease(limiter, clock, 1);
    storeQuarterSecond(limiter, clock);
    limiter.reset();
    limiter.rate(0);
    decrease(limiter, clock, 2);
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(640);
  });

  it("never falls below its floor, 2 % of the service's limit", () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    for (let i = 0; i < 100; i++) {
      limiter.throttled(0, 1000, clock.now());
      clock.advance(10);
    }
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(20);
  });

  it('leaves the other shards alone', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    limiter.throttled(1, 1000, clock.now());
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(1000);
    expect(limiter.rate(2).recordsPerSecond).toBeCloseTo(1000);
    clock.advance(1000);
    expect(limiter.tryTake(0, 1000, 0)).toBe(true);
  });

  it('starts a shard afresh after reset', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(ADAPTIVE, clock.now);
    limiter.throttled(0, 1000, clock.now());
    limiter.reset();
    expect(limiter.rate(0).recordsPerSecond).toBeCloseTo(1000);
  });

  it('ignores throttles and stays at rateLimit % without adaptive', () => {
    const clock = manualClock();
    const limiter = new ShardRateLimiter(CEILING, clock.now);
    limiter.throttled(0, 1000, clock.now());
    expect(limiter.rate(0)).toEqual({ ...CEILING, ratio: 1 });
    expect(limiter.tryTake(0, 1500, 0)).toBe(true);
  });

  it("lets 10 MiB records through as the service's burst does, and keeps the average at the shard's rate", () => {
    const clock = manualClock();
    // rateLimit 100: the rate stays at the service's, so that the average can be compared with it.
    const limiter = new ShardRateLimiter({ ...SERVICE, adaptive: { initialRatio: 1 } }, clock.now);
    const record = 10 * 1024 * 1024;
    let bytes = 0;
    const started = clock.now();
    for (let i = 0; i < 20; i++) {
      clock.advance(limiter.waitTime(0, 1, record));
      expect(limiter.tryTake(0, 1, record)).toBe(true);
      bytes += record;
    }
    // The first record went at once on a full bucket; the other 19 each waited for their bytes.
    const seconds = (clock.now() - started) / 1000;
    expect(bytes / seconds).toBeLessThanOrEqual(SERVICE.bytesPerSecond * (20 / 19) * 1.001);
    expect(bytes / seconds).toBeGreaterThan(SERVICE.bytesPerSecond * 0.99);
  });

  /**
   * Writers that each offer more than a shard takes, through their own adaptive limiter, to one
   * shard that enforces the service's limit with a one-second burst. A throttled record is sent
   * again. Time moves in 10 ms ticks; each writer's records answer 20 ms after they are sent.
   */
  function simulateSharedShard(writers: number, seconds: number, adaptive: boolean) {
    const clock = manualClock();
    const recordBytes = 50 * 1024;
    const limiters = Array.from({ length: writers }, () => new ShardRateLimiter(adaptive ? ADAPTIVE : CEILING, clock.now));
    const shard = new ShardRateLimiter(SERVICE, clock.now);
    const stored = new Array<number>(writers).fill(0);
    let sent = 0;
    const answers: Array<{ at: number; sentAt: number; writer: number; throttled: boolean }> = [];
    const started = clock.now();
    for (let tick = 0; tick < seconds * 100; tick++) {
      clock.advance(10);
      for (const answer of answers.splice(0).filter((pending) => {
        if (pending.at <= clock.now()) return true;
        answers.push(pending);
        return false;
      })) {
        if (answer.throttled) limiters[answer.writer]!.throttled(0, recordBytes, answer.sentAt);
        else limiters[answer.writer]!.accepted(0, recordBytes, answer.sentAt);
      }
      // Writers take turns first, as their requests would arrive in any order.
      for (let k = 0; k < writers; k++) {
        const writer = (tick + k) % writers;
        while (limiters[writer]!.tryTake(0, 1, recordBytes)) {
          sent += recordBytes;
          const accepted = shard.tryTake(0, 1, recordBytes);
          if (accepted) stored[writer]! += recordBytes;
          answers.push({ at: clock.now() + 20, sentAt: clock.now(), writer, throttled: !accepted });
        }
      }
    }
    const total = stored.reduce((sum, bytes) => sum + bytes, 0);
    const elapsed = (clock.now() - started) / 1000;
    return {
      sentPerStored: sent / total,
      utilisation: total / elapsed / SERVICE.bytesPerSecond,
      shares: stored.map((bytes) => bytes / total),
    };
  }

  it('brings three writers on one shard to fair shares, the shard nearly full, with little sent twice', () => {
    const result = simulateSharedShard(3, 120, true);
    expect(result.sentPerStored).toBeLessThanOrEqual(1.15);
    expect(result.utilisation).toBeGreaterThanOrEqual(0.9);
    expect(Math.max(...result.shares) / Math.min(...result.shares)).toBeLessThanOrEqual(1.25);
  });

  it('sends much more than it stores with three static writers at 150 %', () => {
    expect(simulateSharedShard(3, 60, false).sentPerStored).toBeGreaterThan(2);
  });

  it("keeps one writer's shard full", () => {
    const result = simulateSharedShard(1, 60, true);
    expect(result.utilisation).toBeGreaterThanOrEqual(0.95);
    expect(result.sentPerStored).toBeLessThanOrEqual(1.05);
  });
});
