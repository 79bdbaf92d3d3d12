/**
 * Per-shard token buckets for records/s and bytes/s, so the producer stays under each shard's
 * write limits instead of learning them from throttling errors. Throttling one shard never slows
 * another: every shard has its own buckets.
 *
 * With `adaptive`, each shard's rate also adapts, as TCP's congestion window does (AIMD): a
 * shard starts at the service's limits; a throttled put lowers that shard's rate by a factor
 * (multiplicative decrease), at most once per decrease interval, since the throttles of one
 * episode arrive together; throttle-free time raises it again by a constant step per second
 * (additive increase), up to the configured rate (rateLimit %). The KPL's own limiter is static
 * (its throttling hook is empty) and, as its comments say, lets throttling grow with the number
 * of producers on a stream. Vector's adaptive request concurrency applies the same AIMD to
 * concurrency, with a 0.9 decrease. Under AIMD, writers that share a shard drift towards equal
 * shares (a larger rate loses more at each decrease, every rate gains alike), and their sum
 * hovers just under the shard's limit, so little is throttled and sent again.
 *
 * The decrease follows what the shard reported since its last one (the gate reports stored and
 * throttled bytes): 15 %, or twice the throttled share of the bytes where that is more, up to
 * 70 %. A lone writer that meets a throttle now and then from timing jitter loses little; writers
 * that start together at the shard's limit, most of their bytes throttled, fall to their shares at
 * once. Adaptive shards also start with empty buckets, so that such writers do not each spend a
 * second's burst at the same moment. The constants were chosen with the simulation in
 * test/unit/limiter.test.ts and `kpl bench --writers 3` (BENCHMARKS.md).
 *
 * A shard is its index in the current ShardMap. The buckets live in typed arrays that grow to the
 * highest index seen (52 bytes a shard: 4,096 shards cost 208 KiB), and refill lazily when a
 * shard is asked, so idle shards cost nothing per tick.
 */

/** Options of a {@link ShardRateLimiter}. */
export interface ShardRateLimiterOptions {
  /** Records a shard may take per second at most (already scaled by rateLimit %). */
  recordsPerSecond: number;
  /** Bytes (data plus partition key) a shard may take per second at most (already scaled by rateLimit %). */
  bytesPerSecond: number;
  /** Seconds of unused allowance a bucket saves up for a burst. @default 1 */
  burstSeconds?: number | undefined;
  /** Adapt each shard's rate to throttling; absent, every shard keeps the rates above. */
  adaptive?: AdaptiveRateOptions | undefined;
}

/**
 * How each shard's rate adapts, as fractions of the rates in {@link ShardRateLimiterOptions}
 * (the ceiling). Pass `initialRatio: 100 / rateLimit` to start at the service's limits.
 */
export interface AdaptiveRateOptions {
  /** Share of the ceiling a shard starts at, from 0 to 1: the service's limits, 100 / rateLimit. */
  initialRatio: number;
  /**
   * Factor a throttle multiplies the rate by, at most: where the shard throttled a larger share of
   * the bytes reported since the last decrease, the rate falls by twice that share, by 70 % at most.
   * @default 0.85
   */
  decreaseFactor?: number | undefined;
  /** Share of the ceiling regained per throttle-free second. @default 2 % of the service's limit, 0.02 × initialRatio */
  increasePerSecond?: number | undefined;
  /** Lowest share of the ceiling a shard falls to. @default 2 % of the service's limit, 0.02 × initialRatio */
  minRatio?: number | undefined;
  /**
   * Milliseconds after a decrease in which further throttles of that shard are taken as the same
   * episode (answers to puts made before the decrease), and the rate does not climb either.
   * @default 1000, the service's one-second window
   */
  decreaseIntervalMs?: number | undefined;
}

/** A shard's current rate, for reports such as `kpl bench`'s. */
export interface ShardRate {
  readonly recordsPerSecond: number;
  readonly bytesPerSecond: number;
  /** The rate as a share of the ceiling (rateLimit %), from 0 to 1. */
  readonly ratio: number;
}

const DEFAULT_DECREASE_FACTOR = 0.85;
const DEFAULT_INCREASE_SHARE = 0.02;
const DEFAULT_MIN_SHARE = 0.02;
const DEFAULT_DECREASE_INTERVAL_MS = 500;
/** The most one decrease takes off a shard's rate, when most of what it sent was throttled. */
const MIN_DECREASE_FACTOR = 0.3;
/** How hard the throttled share of a shard's bytes pushes its rate down: 1 % throttled takes 2 % off. */
const THROTTLE_WEIGHT = 2;

const INITIAL_SHARDS = 16;
/**
 * Slack when comparing a bucket with a demand. Buckets are float32 and refill in fractions, so a
 * bucket refilled for exactly the computed wait can land a hair short; half a record or half a
 * byte is far below anything a shard's limit can notice.
 */
const TOLERANCE = 0.5;

/** Token buckets for records/s and bytes/s, one pair per shard index. */
export class ShardRateLimiter {
  readonly #recordsPerMs: number;
  readonly #bytesPerMs: number;
  readonly #recordCapacity: number;
  readonly #byteCapacity: number;
  readonly #now: () => number;
  readonly #adaptive: boolean;
  readonly #initialRatio: number;
  readonly #decreaseFactor: number;
  readonly #increasePerMs: number;
  readonly #minRatio: number;
  readonly #decreaseIntervalMs: number;
  #records = new Float32Array(INITIAL_SHARDS);
  /** Float64: a 10 MiB record's debt needs whole bytes, past a float32's 2^24. */
  #bytes = new Float64Array(INITIAL_SHARDS);
  /** When each shard's buckets were last refilled; NaN for a shard not seen since the last reset. */
  #refilledAt = new Float64Array(INITIAL_SHARDS).fill(Number.NaN);
  /** Each shard's rate as a share of the ceiling; 1 unless adaptive. */
  #ratio = new Float64Array(INITIAL_SHARDS);
  /** Until when each shard's rate neither falls again nor climbs: the last decrease plus the interval. */
  #holdUntil = new Float64Array(INITIAL_SHARDS);
  /** Bytes each shard stored, and had throttled, since its last decrease. */
  #acceptedBytes = new Float64Array(INITIAL_SHARDS);
  #throttledBytes = new Float64Array(INITIAL_SHARDS);

  /**
   * @param options the rates (positive, finite) and the burst length (positive, finite).
   * @param now a monotonic clock in ms; replace it in tests that fake time.
   */
  constructor(options: ShardRateLimiterOptions, now: () => number = () => performance.now()) {
    const { recordsPerSecond, bytesPerSecond } = options;
    const burstSeconds = options.burstSeconds ?? 1;
    requirePositive('recordsPerSecond', recordsPerSecond);
    requirePositive('bytesPerSecond', bytesPerSecond);
    requirePositive('burstSeconds', burstSeconds);
    const adaptive = options.adaptive;
    this.#adaptive = adaptive !== undefined;
    this.#initialRatio = adaptive === undefined ? 1 : requireRatio('adaptive.initialRatio', adaptive.initialRatio);
    this.#decreaseFactor = requireRatio('adaptive.decreaseFactor', adaptive?.decreaseFactor ?? DEFAULT_DECREASE_FACTOR);
    const increasePerSecond = adaptive?.increasePerSecond ?? DEFAULT_INCREASE_SHARE * this.#initialRatio;
    requirePositive('adaptive.increasePerSecond', increasePerSecond);
    this.#increasePerMs = increasePerSecond / 1000;
    this.#minRatio = requireRatio('adaptive.minRatio', adaptive?.minRatio ?? DEFAULT_MIN_SHARE * this.#initialRatio);
    this.#decreaseIntervalMs = adaptive?.decreaseIntervalMs ?? DEFAULT_DECREASE_INTERVAL_MS;
    if (!Number.isFinite(this.#decreaseIntervalMs) || this.#decreaseIntervalMs < 0) {
      throw new RangeError(`adaptive.decreaseIntervalMs must be a finite number from 0 up; got ${this.#decreaseIntervalMs}`);
    }
    this.#recordsPerMs = recordsPerSecond / 1000;
    this.#bytesPerMs = bytesPerSecond / 1000;
    // Rounded as the float32 record buckets store them, so that a full bucket equals its capacity.
    this.#recordCapacity = Math.fround(recordsPerSecond * burstSeconds);
    this.#byteCapacity = bytesPerSecond * burstSeconds;
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
    this.#refill(shard);
    const ratio = this.#ratio[shard]!;
    if (this.#records[shard]! + TOLERANCE < Math.min(records, this.#recordCapacity * ratio)) return false;
    if (this.#bytes[shard]! + TOLERANCE < Math.min(bytes, this.#byteCapacity * ratio)) return false;
    this.#records[shard]! -= records;
    this.#bytes[shard]! -= bytes;
    return true;
  }

  /** Milliseconds until `tryTake(shard, records, bytes)` could succeed; 0 if it could now. */
  waitTime(shard: number, records: number, bytes: number): number {
    this.#refill(shard);
    const ratio = this.#ratio[shard]!;
    const recordsMissing = Math.min(records, this.#recordCapacity * ratio) - this.#records[shard]! - TOLERANCE;
    const bytesMissing = Math.min(bytes, this.#byteCapacity * ratio) - this.#bytes[shard]! - TOLERANCE;
    const waitMs = Math.max(recordsMissing / (this.#recordsPerMs * ratio), bytesMissing / (this.#bytesPerMs * ratio), 0);
    return Math.ceil(waitMs);
  }

  /** Kinesis stored a record of `bytes` on this shard: with `adaptive`, it counts towards the share the shard accepts. */
  accepted(shard: number, bytes: number): void {
    if (!this.#adaptive) return;
    this.#refill(shard);
    this.#acceptedBytes[shard]! += bytes;
  }

  /**
   * Kinesis throttled a record of `bytes` on this shard: with `adaptive`, the shard's rate falls,
   * unless it fell less than a decrease interval ago, and its buckets shrink to match. It falls by
   * the decrease factor, or to the share of the bytes the shard accepted since its last decrease
   * where that is lower (down to half): several writers that all start at the shard's limit learn
   * their share in a second or two instead of throttling each other for many. Without `adaptive`,
   * nothing changes.
   */
  throttled(shard: number, bytes: number): void {
    if (!this.#adaptive) return;
    this.#refill(shard);
    this.#throttledBytes[shard]! += bytes;
    const now = this.#now();
    if (now < this.#holdUntil[shard]!) return;
    const accepted = this.#acceptedBytes[shard]!;
    const reported = accepted + this.#throttledBytes[shard]!;
    const throttledShare = reported > 0 ? 1 - accepted / reported : 0;
    const factor = Math.min(this.#decreaseFactor, Math.max(MIN_DECREASE_FACTOR, 1 - THROTTLE_WEIGHT * throttledShare));
    const ratio = Math.max(this.#minRatio, this.#ratio[shard]! * factor);
    this.#ratio[shard] = ratio;
    this.#holdUntil[shard] = now + this.#decreaseIntervalMs;
    this.#acceptedBytes[shard] = 0;
    this.#throttledBytes[shard] = 0;
    this.#records[shard] = Math.min(this.#records[shard]!, this.#recordCapacity * ratio);
    this.#bytes[shard] = Math.min(this.#bytes[shard]!, this.#byteCapacity * ratio);
  }

  /** The shard's rate now: the ceiling's unless `adaptive` lowered it. */
  rate(shard: number): ShardRate {
    this.#refill(shard);
    const ratio = this.#ratio[shard]!;
    return { recordsPerSecond: this.#recordsPerMs * 1000 * ratio, bytesPerSecond: this.#bytesPerMs * 1000 * ratio, ratio };
  }

  /** Forgets every shard, e.g. when the shard map changed and indexes mean other shards. */
  reset(): void {
    this.#refilledAt.fill(Number.NaN);
  }

  #refill(shard: number): void {
    if (shard >>> 0 !== shard || shard >= this.#refilledAt.length) this.#grow(shard);
    const now = this.#now();
    const refilledAt = this.#refilledAt[shard]!;
    if (Number.isNaN(refilledAt)) {
      const ratio = this.#initialRatio;
      this.#ratio[shard] = ratio;
      this.#holdUntil[shard] = -Infinity;
      this.#acceptedBytes[shard] = 0;
      this.#throttledBytes[shard] = 0;
      // An adaptive shard starts with empty buckets: writers that start together on one stream
      // would otherwise each spend a full second's burst at once, and have most of it throttled.
      const fill = this.#adaptive ? 0 : ratio;
      this.#records[shard] = this.#recordCapacity * fill;
      this.#bytes[shard] = this.#byteCapacity * fill;
    } else {
      const elapsed = now - refilledAt;
      if (elapsed <= 0) return;
      let ratio = this.#ratio[shard]!;
      this.#records[shard] = Math.min(this.#recordCapacity * ratio, this.#records[shard]! + elapsed * this.#recordsPerMs * ratio);
      this.#bytes[shard] = Math.min(this.#byteCapacity * ratio, this.#bytes[shard]! + elapsed * this.#bytesPerMs * ratio);
      if (this.#adaptive && ratio < 1) {
        const throttleFree = now - Math.max(refilledAt, this.#holdUntil[shard]!);
        if (throttleFree > 0) {
          ratio = Math.min(1, ratio + throttleFree * this.#increasePerMs);
          this.#ratio[shard] = ratio;
        }
      }
    }
    this.#refilledAt[shard] = now;
  }

  #grow(shard: number): void {
    if (shard >>> 0 !== shard) {
      throw new RangeError(`shard must be a shard map index, an integer from 0 to 2^32 - 2; got ${shard}`);
    }
    let length = this.#refilledAt.length;
    while (length <= shard) length *= 2;
    const records = new Float32Array(length);
    const bytes = new Float64Array(length);
    const refilledAt = new Float64Array(length).fill(Number.NaN);
    const ratio = new Float64Array(length);
    const holdUntil = new Float64Array(length);
    const acceptedBytes = new Float64Array(length);
    const throttledBytes = new Float64Array(length);
    records.set(this.#records);
    bytes.set(this.#bytes);
    refilledAt.set(this.#refilledAt);
    ratio.set(this.#ratio);
    holdUntil.set(this.#holdUntil);
    acceptedBytes.set(this.#acceptedBytes);
    throttledBytes.set(this.#throttledBytes);
    this.#records = records;
    this.#bytes = bytes;
    this.#refilledAt = refilledAt;
    this.#ratio = ratio;
    this.#holdUntil = holdUntil;
    this.#acceptedBytes = acceptedBytes;
    this.#throttledBytes = throttledBytes;
  }
}

function requireRatio(field: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new RangeError(`${field} must be a number above 0 and at most 1; got ${value}`);
  }
  return value;
}

function requirePositive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field} must be a finite number above 0; got ${value}`);
  }
}
