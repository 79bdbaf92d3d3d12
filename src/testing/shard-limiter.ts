import type { ResolvedWriteLimits } from './limits.js';
import { TokenBucket } from './token-bucket.js';

/**
 * One shard's record and byte allowance. A record larger than the whole byte bucket passes when
 * the bucket is full and leaves it in debt, so that a low byte limit slows large records down
 * instead of refusing them for ever.
 */
export class ShardLimiter {
  readonly #records: TokenBucket;
  readonly #bytes: TokenBucket;
  readonly #bytesCapacity: number;

  constructor(limits: ResolvedWriteLimits, now: number) {
    this.#records = new TokenBucket(limits.recordsPerSecond, Math.max(1, limits.recordsPerSecond * limits.burstSeconds), now);
    this.#bytesCapacity = limits.bytesPerSecond * limits.burstSeconds;
    this.#bytes = new TokenBucket(limits.bytesPerSecond, this.#bytesCapacity, now);
  }

  /** Takes one record of `bytes` if both allowances cover it, else takes nothing and returns false. */
  tryTake(bytes: number, now: number): boolean {
    if (this.#records.available(now) < 1 || this.#bytes.available(now) < Math.min(bytes, this.#bytesCapacity)) {
      return false;
    }
    this.#records.take(1);
    this.#bytes.take(bytes);
    return true;
  }

  /** Gives back what {@link tryTake} took for a record that was not stored after all. */
  refund(bytes: number): void {
    this.#records.refund(1);
    this.#bytes.refund(bytes);
  }
}
