/**
 * A token bucket: holds up to `capacity` tokens, refills at `ratePerSecond`, starts full.
 * Times are milliseconds from a monotonic clock (performance.now()).
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #capacity: number;
  #tokens: number;
  #updatedAt: number;

  constructor(ratePerSecond: number, capacity: number, now: number) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#updatedAt = now;
  }

  /** Tokens available at `now`. */
  available(now: number): number {
    if (now > this.#updatedAt) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
      this.#updatedAt = now;
    }
    return this.#tokens;
  }

  /** Removes `amount` tokens; the caller has checked {@link available}. The balance may go below zero. */
  take(amount: number): void {
    this.#tokens -= amount;
  }

  /** Gives back tokens taken for a write that was not stored after all. */
  refund(amount: number): void {
    this.#tokens = Math.min(this.#capacity, this.#tokens + amount);
  }
}
