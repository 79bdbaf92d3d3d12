import type { ResolvedWriteLimits } from './limits.js';
import { TokenBucket } from './token-bucket.js';

/** Largest record the service takes, data plus partition key: the byte bucket must fit one. */
const MAX_RECORD_BYTES = 1_048_576;

/** One shard's record and byte allowance. */
export class ShardLimiter {
  readonly #records: TokenBucket;
  readonly #bytes: TokenBucket;

  constructor(limits: ResolvedWriteLimits, now: number) {
    this.#records = new TokenBucket(
      limits.recordsPerSecond,
      Math.max(1, limits.recordsPerSecond * limits.burstSeconds),
      now,
    );
    this.#bytes = new TokenBucket(
      limits.bytesPerSecond,
      Math.max(MAX_RECORD_BYTES, limits.bytesPerSecond * limits.burstSeconds),
      now,
    );
  }

  /** Takes one record of `bytes` if both allowances cover it, else takes nothing and returns false. */
  tryTake(bytes: number, now: number): boolean {
    if (this.#records.available(now) < 1 || this.#bytes.available(now) < bytes) return false;
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
