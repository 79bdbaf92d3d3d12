/**
 * Per-shard token buckets for records/s and bytes/s, so the producer stays under each shard's
 * write limits instead of learning them from throttling errors. Throttling one shard never slows
 * another: every shard has its own buckets.
 *
 * With `adaptive`, each shard's rate also adapts, as TCP's congestion window does (AIMD): a
 * shard starts at the service's limits; a throttled put lowers that shard's rate by a factor
 * (multiplicative decrease); time in which the shard holds records back raises it again
 * (additive increase), up to the configured rate (rateLimit %). The KPL's own limiter is static
 * (its throttling hook is empty) and, as its comments say, lets throttling grow with the number of
 * producers on a stream. Vector's adaptive request concurrency applies the same AIMD to
 * concurrency, with a 0.9 decrease.
 *
 * Writers in separate processes never hear of each other's throttles: a throttle lowers only the
 * writer whose request it answered, about once in two seconds each, so plain AIMD brings their
 * shares together only that fast. Three rules bring them together faster:
 * - One decrease per episode, told by send time: throttles of requests sent before the shard's
 *   last decrease answer for the old rate, so they neither lower it again nor count towards the
 *   next one. Writers that start together at the limit fall in step, a step per round trip.
 * - A decrease of 20 %, once 2 % of the bytes reported since the last one were throttled, from the
 *   rate the shard used where that is lower (a writer short of CPU or of records). Once the shard
 *   has settled (it stored a quarter second of its allowed bytes without a throttle since a
 *   decrease), the cut is 20 % × √(rate / limit): 11.5 % at a third of the limit. Throttles land
 *   most often on the writer whose rate climbs fastest, the one furthest below its share, and a
 *   smaller cut keeps that from holding it down; before it settles, the full cut takes writers that
 *   start together at the limit down from it in few throttled round trips.
 * - A climb that grows away from about half the service's limit, either way: a catch-up term with
 *   (limit / rate)⁴, so that below half the limit a smaller share climbs faster and the rates also
 *   converge between throttles; and a probe term with (rate / limit)⁴, so that a lone writer
 *   regains a fall and probes past the limit (the service takes somewhat more than its limit from
 *   one writer: the KPL's 150 %) at 5 % of the limit a second, as before. At most 8 % a second,
 *   so that many writers on one shard do not climb into each other too fast.
 * The rate climbs only while the shard holds records back (its last demand was refused), and
 * adaptive shards start with empty buckets, so that writers that start together do not each spend
 * a second's burst at once. The constants come from a simulation of writers on a token-bucket
 * shard and `kpl bench --writers 3` (BENCHMARKS.md); the options and defaults are in
 * limiter-options.ts.
 *
 * A shard is its index in the current ShardMap. The buckets live in typed arrays that grow to the
 * highest index seen (86 bytes a shard: 4,096 shards cost 344 KiB), and refill lazily when a
 * shard is asked, so idle shards cost nothing per tick.
 */
import { resolveLimiterOptions, type ResolvedLimiterOptions, type ShardRateLimiterOptions } from './limiter-options.js';

/** A shard's current rate, for reports such as `kpl bench`'s. */
export interface ShardRate {
  readonly recordsPerSecond: number;
  readonly bytesPerSecond: number;
  /** The rate as a share of the ceiling (rateLimit %), from 0 to 1. */
  readonly ratio: number;
}

/**
 * How steeply each term of the climb grows away from the service's limit: (limit / rate) and
 * (rate / limit) to this power. A higher power pulls writers' rates together faster, and makes
 * writers at small shares climb into each other harder (the cap bounds that).
 */
const CLIMB_EXPONENT = 4;
/**
 * The span over which a shard's rate in use is measured, about: older use counts for less and less.
 * Long enough to hold several requests, short enough that a decrease starts from the present rate.
 */
const USAGE_WINDOW_MS = 1000;
/**
 * The least of its allowed rate a decrease starts from, however little the shard used: throttles
 * that answer requests sent before a quiet spell must not take a shard to its floor at once.
 */
const MIN_USED_SHARE = 0.5;
/** A shorter measurement of the rate in use than this is too noisy to start a decrease from. */
const MIN_USAGE_SPAN_MS = 200;
/**
 * A shard has settled once it stored this long of its allowed bytes, without a throttle, since its
 * last decrease. Until then its decreases take the full cut, so that writers that start together
 * at the limit fall from it as fast as they can. A shard never decreased has not settled: the
 * service's burst allowance stores everything for the first second, whatever the writers' shares.
 */
const SETTLED_MS = 250;

const INITIAL_SHARDS = 16;
/**
 * Slack when comparing a bucket with a demand. Buckets are float32 and refill in fractions, so a
 * bucket refilled for exactly the computed wait can land a hair short; half a record or half a
 * byte is far below anything a shard's limit can notice.
 */
const TOLERANCE = 0.5;

/** Token buckets for records/s and bytes/s, one pair per shard index. */
export class ShardRateLimiter {
  readonly #options: ResolvedLimiterOptions;
  readonly #now: () => number;
  #records = new Float32Array(INITIAL_SHARDS);
  /** Float64: a 10 MiB record's debt needs whole bytes, past a float32's 2^24. */
  #bytes = new Float64Array(INITIAL_SHARDS);
  /** When each shard's buckets were last refilled; NaN for a shard not seen since the last reset. */
  #refilledAt = new Float64Array(INITIAL_SHARDS).fill(Number.NaN);
  /** Each shard's rate as a share of the ceiling; 1 unless adaptive. */
  #ratio = new Float64Array(INITIAL_SHARDS);
  /** When each shard's rate last fell: requests sent before then answer for the old rate. */
  #decreasedAt = new Float64Array(INITIAL_SHARDS);
  /** Bytes each shard stored, and had throttled, in requests sent since its last decrease. */
  #acceptedBytes = new Float64Array(INITIAL_SHARDS);
  #throttledBytes = new Float64Array(INITIAL_SHARDS);
  /** 1 while the shard's last demand was refused: it holds records back, and only then does its rate climb. */
  #holding = new Uint8Array(INITIAL_SHARDS);
  /** 1 once the shard has settled (SETTLED_MS): from then on a decrease below the limit cuts less at a smaller rate. */
  #settled = new Uint8Array(INITIAL_SHARDS);
  /** Records and bytes each shard took since `#takenSince`: the rate it actually uses. */
  #takenRecords = new Float64Array(INITIAL_SHARDS);
  #takenBytes = new Float64Array(INITIAL_SHARDS);
  #takenSince = new Float64Array(INITIAL_SHARDS);

  /**
   * @param options the rates (positive, finite) and the burst length (positive, finite).
   * @param now a monotonic clock in ms; replace it in tests that fake time.
   */
  constructor(options: ShardRateLimiterOptions, now: () => number = () => performance.now()) {
    this.#options = resolveLimiterOptions(options);
    this.#now = now;
  }

  /**
   * Takes `records` and `bytes` from the shard's buckets if both hold enough, and returns true;
   * otherwise takes nothing and returns false. A demand larger than a bucket's capacity (one
   * request's bytes can exceed a second's allowance at a low rateLimit) is granted when that
   * bucket is full, and leaves the bucket in debt, so it is let through without stalling forever
   * and the shard's average rate still holds.
   */
  tryTake(shard: number, records: number, bytes: number): boolean {
    const now = this.#refill(shard);
    const ratio = this.#ratio[shard]!;
    const options = this.#options;
    if (
      this.#records[shard]! + TOLERANCE < Math.min(records, options.recordCapacity * ratio) ||
      this.#bytes[shard]! + TOLERANCE < Math.min(bytes, options.byteCapacity * ratio)
    ) {
      this.#holding[shard] = 1;
      return false;
    }
    this.#holding[shard] = 0;
    this.#records[shard]! -= records;
    this.#bytes[shard]! -= bytes;
    if (options.adaptive) this.#countTaken(shard, records, bytes, now);
    return true;
  }

  /** Milliseconds until `tryTake(shard, records, bytes)` could succeed; 0 if it could now. */
  waitTime(shard: number, records: number, bytes: number): number {
    this.#refill(shard);
    const ratio = this.#ratio[shard]!;
    const options = this.#options;
    const recordsMissing = Math.min(records, options.recordCapacity * ratio) - this.#records[shard]! - TOLERANCE;
    const bytesMissing = Math.min(bytes, options.byteCapacity * ratio) - this.#bytes[shard]! - TOLERANCE;
    const waitMs = Math.max(recordsMissing / (options.recordsPerMs * ratio), bytesMissing / (options.bytesPerMs * ratio), 0);
    return Math.ceil(waitMs);
  }

  /**
   * Kinesis stored a record of `bytes` on this shard, in a request sent at `sentAt` (ms, on the
   * limiter's clock): with `adaptive`, it counts towards the share the shard accepts, and towards
   * the quarter second the shard must store to settle, unless it was sent before the shard's last
   * decrease (or in the same instant).
   */
  accepted(shard: number, bytes: number, sentAt: number): void {
    if (!this.#options.adaptive) return;
    this.#refill(shard);
    if (sentAt <= this.#decreasedAt[shard]!) return;
    this.#acceptedBytes[shard]! += bytes;
    if (this.#settled[shard] === 0 && this.#throttledBytes[shard] === 0 && this.#decreasedAt[shard] !== -Infinity) {
      const settledBytes = SETTLED_MS * this.#options.bytesPerMs * this.#ratio[shard]!;
      if (this.#acceptedBytes[shard]! >= settledBytes) this.#settled[shard] = 1;
    }
  }

  /**
   * Kinesis throttled a record of `bytes` on this shard, in a request sent at `sentAt` (ms, on the
   * limiter's clock). With `adaptive`, the shard's rate falls and its buckets shrink to match,
   * unless the request was sent before the shard's last decrease (it answers for the old rate and
   * does not count), or less than the threshold share (2 %) of the bytes reported since that
   * decrease was throttled. The rate falls by 1 − decreaseFactor (20 %); once the shard has settled
   * (SETTLED_MS), by that times √(rate / limit) below the service's limit. It falls from the rate
   * the shard actually used where that is below its allowed rate (a writer short of CPU or of
   * records; half the allowed rate at least). Without `adaptive`, nothing changes.
   */
  throttled(shard: number, bytes: number, sentAt: number): void {
    const options = this.#options;
    if (!options.adaptive) return;
    const now = this.#refill(shard);
    if (sentAt <= this.#decreasedAt[shard]!) return;
    this.#throttledBytes[shard]! += bytes;
    const throttled = this.#throttledBytes[shard]!;
    if (throttled < options.throttledShareThreshold * (this.#acceptedBytes[shard]! + throttled)) return;
    const allowed = this.#ratio[shard]!;
    const used = Math.max(allowed * MIN_USED_SHARE, Math.min(allowed, this.#usedRatio(shard, now)));
    const scale = this.#settled[shard] === 1 ? Math.sqrt(Math.min(1, allowed / options.initialRatio)) : 1;
    const cut = (1 - options.decreaseFactor) * scale;
    const ratio = Math.max(options.minRatio, used * (1 - cut));
    this.#ratio[shard] = ratio;
    this.#decreasedAt[shard] = now;
    this.#acceptedBytes[shard] = 0;
    this.#throttledBytes[shard] = 0;
    this.#takenRecords[shard] = 0;
    this.#takenBytes[shard] = 0;
    this.#takenSince[shard] = now;
    this.#records[shard] = Math.min(this.#records[shard]!, options.recordCapacity * ratio);
    this.#bytes[shard] = Math.min(this.#bytes[shard]!, options.byteCapacity * ratio);
  }

  /** The shard's rate now: the ceiling's unless `adaptive` lowered it. */
  rate(shard: number): ShardRate {
    this.#refill(shard);
    const ratio = this.#ratio[shard]!;
    const options = this.#options;
    return { recordsPerSecond: options.recordsPerMs * 1000 * ratio, bytesPerSecond: options.bytesPerMs * 1000 * ratio, ratio };
  }

  /** Forgets every shard, e.g. when the shard map changed and indexes mean other shards. */
  reset(): void {
    this.#refilledAt.fill(Number.NaN);
  }

  /**
   * Counts what the shard took towards the rate it uses. Past the usage window, the count is
   * scaled back to half a window at the same average, so that older use fades without a timer.
   */
  #countTaken(shard: number, records: number, bytes: number, now: number): void {
    this.#takenRecords[shard]! += records;
    this.#takenBytes[shard]! += bytes;
    const span = now - this.#takenSince[shard]!;
    if (span <= USAGE_WINDOW_MS) return;
    const keep = USAGE_WINDOW_MS / 2 / span;
    this.#takenRecords[shard]! *= keep;
    this.#takenBytes[shard]! *= keep;
    this.#takenSince[shard] = now - USAGE_WINDOW_MS / 2;
  }

  /** The rate the shard used lately, as a share of the ceiling; its allowed rate if too little time was measured. */
  #usedRatio(shard: number, now: number): number {
    const span = now - this.#takenSince[shard]!;
    if (span < MIN_USAGE_SPAN_MS) return this.#ratio[shard]!;
    const options = this.#options;
    return Math.max(this.#takenRecords[shard]! / options.recordsPerMs, this.#takenBytes[shard]! / options.bytesPerMs) / span;
  }

  /** Refills the shard's buckets (and, adaptive, climbs its rate) up to now, and returns now. */
  #refill(shard: number): number {
    if (shard >>> 0 !== shard || shard >= this.#refilledAt.length) this.#grow(shard);
    const now = this.#now();
    const options = this.#options;
    const refilledAt = this.#refilledAt[shard]!;
    if (Number.isNaN(refilledAt)) {
      const ratio = options.initialRatio;
      this.#ratio[shard] = ratio;
      this.#decreasedAt[shard] = -Infinity;
      this.#acceptedBytes[shard] = 0;
      this.#throttledBytes[shard] = 0;
      this.#holding[shard] = 0;
      this.#settled[shard] = 0;
      this.#takenRecords[shard] = 0;
      this.#takenBytes[shard] = 0;
      this.#takenSince[shard] = now;
      // An adaptive shard starts with empty buckets: writers that start together on one stream
      // would otherwise each spend a full second's burst at once, and have most of it throttled.
      const fill = options.adaptive ? 0 : ratio;
      this.#records[shard] = options.recordCapacity * fill;
      this.#bytes[shard] = options.byteCapacity * fill;
    } else {
      const elapsed = now - refilledAt;
      if (elapsed <= 0) return now;
      const ratio = this.#ratio[shard]!;
      this.#records[shard] = Math.min(options.recordCapacity * ratio, this.#records[shard]! + elapsed * options.recordsPerMs * ratio);
      this.#bytes[shard] = Math.min(options.byteCapacity * ratio, this.#bytes[shard]! + elapsed * options.bytesPerMs * ratio);
      // Only a shard that held records back since its last refill climbs: a writer that sends
      // less than its rate allows (idle, or short of CPU) would otherwise raise a rate it never
      // tests, and spend it all at once later.
      if (options.adaptive && ratio < 1 && this.#holding[shard] === 1) {
        this.#ratio[shard] = Math.min(1, ratio + elapsed * climbPerMs(options, ratio));
      }
    }
    this.#refilledAt[shard] = now;
    return now;
  }

  #grow(shard: number): void {
    if (shard >>> 0 !== shard) {
      throw new RangeError(`shard must be a shard map index, an integer from 0 to 2^32 - 2; got ${shard}`);
    }
    let length = this.#refilledAt.length;
    while (length <= shard) length *= 2;
    this.#records = grown(this.#records, new Float32Array(length));
    this.#bytes = grown(this.#bytes, new Float64Array(length));
    this.#refilledAt = grown(this.#refilledAt, new Float64Array(length).fill(Number.NaN));
    this.#ratio = grown(this.#ratio, new Float64Array(length));
    this.#decreasedAt = grown(this.#decreasedAt, new Float64Array(length));
    this.#acceptedBytes = grown(this.#acceptedBytes, new Float64Array(length));
    this.#throttledBytes = grown(this.#throttledBytes, new Float64Array(length));
    this.#holding = grown(this.#holding, new Uint8Array(length));
    this.#settled = grown(this.#settled, new Uint8Array(length));
    this.#takenRecords = grown(this.#takenRecords, new Float64Array(length));
    this.#takenBytes = grown(this.#takenBytes, new Float64Array(length));
    this.#takenSince = grown(this.#takenSince, new Float64Array(length));
  }
}

/**
 * How fast a holding shard's rate climbs at `ratio`, in shares of the ceiling per ms: the catch-up
 * term times (service limit / rate)⁴ plus the probe term times (rate / service limit)⁴, at most
 * the cap.
 */
function climbPerMs(options: ResolvedLimiterOptions, ratio: number): number {
  const power = (ratio / options.initialRatio) ** CLIMB_EXPONENT;
  return Math.min(options.maxIncreasePerMs, options.catchUpPerMs / power + options.increasePerMs * power);
}

/** `larger` with `smaller`'s values at its start. */
function grown<A extends Float32Array | Float64Array | Uint8Array>(smaller: A, larger: A): A {
  larger.set(smaller);
  return larger;
}
