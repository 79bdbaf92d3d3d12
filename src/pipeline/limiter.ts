/**
 * Per-shard token buckets for records/s and bytes/s, so the producer stays under each shard's
 * write limits instead of learning them from throttling errors. Throttling one shard never slows
 * another: every shard has its own buckets.
 *
 * A shard is its index in the current ShardMap. The buckets live in typed arrays that grow to the
 * highest index seen (16 bytes a shard: 4,096 shards cost 64 KiB), and refill lazily when a shard
 * is asked, so idle shards cost nothing per tick.
 */

/** Options of a {@link ShardRateLimiter}. */
export interface ShardRateLimiterOptions {
  /** Records a shard may take per second (already scaled by rateLimit %). */
  recordsPerSecond: number;
  /** Bytes (data plus partition key) a shard may take per second (already scaled by rateLimit %). */
  bytesPerSecond: number;
  /** Seconds of unused allowance a bucket saves up for a burst. @default 1 */
  burstSeconds?: number | undefined;
}

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
  #records = new Float32Array(INITIAL_SHARDS);
  #bytes = new Float32Array(INITIAL_SHARDS);
  /** When each shard's buckets were last refilled; NaN for a shard not seen since the last reset. */
  #refilledAt = new Float64Array(INITIAL_SHARDS).fill(Number.NaN);

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
    this.#recordsPerMs = recordsPerSecond / 1000;
    this.#bytesPerMs = bytesPerSecond / 1000;
    // Rounded as the float32 buckets store them, so that a full bucket equals its capacity.
    this.#recordCapacity = Math.fround(recordsPerSecond * burstSeconds);
    this.#byteCapacity = Math.fround(bytesPerSecond * burstSeconds);
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
    if (this.#records[shard]! + TOLERANCE < Math.min(records, this.#recordCapacity)) return false;
    if (this.#bytes[shard]! + TOLERANCE < Math.min(bytes, this.#byteCapacity)) return false;
    this.#records[shard]! -= records;
    this.#bytes[shard]! -= bytes;
    return true;
  }

  /** Milliseconds until `tryTake(shard, records, bytes)` could succeed; 0 if it could now. */
  waitTime(shard: number, records: number, bytes: number): number {
    this.#refill(shard);
    const recordsMissing = Math.min(records, this.#recordCapacity) - this.#records[shard]! - TOLERANCE;
    const bytesMissing = Math.min(bytes, this.#byteCapacity) - this.#bytes[shard]! - TOLERANCE;
    const waitMs = Math.max(recordsMissing / this.#recordsPerMs, bytesMissing / this.#bytesPerMs, 0);
    return Math.ceil(waitMs);
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
      this.#records[shard] = this.#recordCapacity;
      this.#bytes[shard] = this.#byteCapacity;
    } else {
      const elapsed = now - refilledAt;
      if (elapsed <= 0) return;
      this.#records[shard] = Math.min(this.#recordCapacity, this.#records[shard]! + elapsed * this.#recordsPerMs);
      this.#bytes[shard] = Math.min(this.#byteCapacity, this.#bytes[shard]! + elapsed * this.#bytesPerMs);
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
    const bytes = new Float32Array(length);
    const refilledAt = new Float64Array(length).fill(Number.NaN);
    records.set(this.#records);
    bytes.set(this.#bytes);
    refilledAt.set(this.#refilledAt);
    this.#records = records;
    this.#bytes = bytes;
    this.#refilledAt = refilledAt;
  }
}

function requirePositive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field} must be a finite number above 0; got ${value}`);
  }
}
