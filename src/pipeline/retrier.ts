/**
 * The retry policy: what a failed attempt means for its record, and when the record may try again.
 *
 * Backoff is exponential with full jitter (AWS's "Exponential Backoff and Jitter"): the n-th
 * retry waits a uniformly random time in [0, min(maxDelayMs, minDelayMs * 2^n)). Full jitter
 * spreads the records of one failed request over the whole window, so a throttled shard is not
 * hit again by all of them at once, as the KPL's tight retry loop does.
 *
 * Throttling neither has a growing window (it stays [0, minDelayMs)) nor grows the window of a
 * later failure. It says the shard is at its limit now, and the per-shard limiter already paces
 * what goes to it; a record throttled several times is only unlucky, and growing its delay would
 * let it expire behind a backlog, or leave the shard idle at the end of one, while gaining nothing.
 */
import { isUnretryableErrorCode } from './kinesis-client.js';

/** Options of a {@link Retrier}. */
export interface RetryPolicyOptions {
  /** Upper bound of the first retry's delay, in ms. */
  minDelayMs: number;
  /** Upper bound of any retry's delay, in ms. */
  maxDelayMs: number;
  /** Fail a record at its first ProvisionedThroughputExceededException instead of retrying. */
  failIfThrottled: boolean;
}

/** What to do with a record whose attempt failed. */
export type RetryDecision = { action: 'retry'; delayMs: number } | { action: 'fail'; reason: 'expired' | 'throttled' | 'unretryable' };

/** The error code Kinesis gives a record or request that exceeded a shard's or account's write limits. */
export const THROTTLED_ERROR_CODE = 'ProvisionedThroughputExceededException';

/**
 * The `retriesSoFar` of {@link Retrier.decide} for a record whose failed attempts so far are
 * `attempts`, the one being decided last: the failures before it that were not throttling, which
 * never grows the backoff.
 */
export function backoffRetries(attempts: readonly { readonly errorCode?: string | undefined }[]): number {
  let count = 0;
  for (let i = 0; i < attempts.length - 1; i++) if (attempts[i]?.errorCode !== THROTTLED_ERROR_CODE) count++;
  return count;
}

/**
 * Messages of errors that name a shard the map believes open but Kinesis does not: the shard was
 * closed by a split or merge, or is gone.
 */
const CLOSED_OR_MISSING_SHARD = /\bshard\b[^.]*\b(closed|not open|does not exist|not found|has ended|is not active)\b/i;

/** Applies the retry policy to failed attempts. */
export class Retrier {
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #failIfThrottled: boolean;
  readonly #random: () => number;

  /**
   * @param options the policy; `minDelayMs` and `maxDelayMs` must be finite, with
   *   0 <= minDelayMs <= maxDelayMs.
   * @param random a source of numbers in [0, 1); replace it to make delays deterministic in tests.
   */
  constructor(options: RetryPolicyOptions, random: () => number = Math.random) {
    const { minDelayMs, maxDelayMs } = options;
    if (!Number.isFinite(minDelayMs) || minDelayMs < 0) {
      throw new RangeError(`retry.minDelayMs must be a finite number of ms, 0 or more; got ${minDelayMs}`);
    }
    if (!Number.isFinite(maxDelayMs) || maxDelayMs < minDelayMs) {
      throw new RangeError(`retry.maxDelayMs must be a finite number of ms, at least retry.minDelayMs (${minDelayMs}); got ${maxDelayMs}`);
    }
    this.#minDelayMs = minDelayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#failIfThrottled = options.failIfThrottled;
    this.#random = random;
  }

  /**
   * Decides what happens to a record after a failed attempt.
   *
   * @param errorCode the failed attempt's error code (per record, or of the whole request).
   * @param retriesSoFar failed attempts of this record before this one that grow its backoff, as
   *   {@link backoffRetries} counts them (0 after its first attempt).
   * @param deadline when the record expires, in ms, on the same clock as `now`.
   * @param now the current time on the same clock.
   * @returns `fail` with reason `unretryable` for codes no retry fixes (see
   *   {@link isUnretryableErrorCode}), `throttled` for ProvisionedThroughputExceededException when
   *   `failIfThrottled`, `expired` when waiting the delay would pass the deadline; otherwise
   *   `retry` after `delayMs`.
   */
  decide(errorCode: string, retriesSoFar: number, deadline: number, now: number): RetryDecision {
    if (isUnretryableErrorCode(errorCode)) return { action: 'fail', reason: 'unretryable' };
    if (this.#failIfThrottled && errorCode === THROTTLED_ERROR_CODE) return { action: 'fail', reason: 'throttled' };
    const growth = errorCode === THROTTLED_ERROR_CODE ? 1 : 2 ** retriesSoFar;
    const ceiling = Math.min(this.#maxDelayMs, this.#minDelayMs * growth);
    const delayMs = Math.floor(this.#random() * ceiling);
    if (now + delayMs > deadline) return { action: 'fail', reason: 'expired' };
    return { action: 'retry', delayMs };
  }

  /**
   * True when a failure says the shard map may be stale, so the caller should refresh it before
   * predicting shards again: a ResourceNotFoundException or InvalidArgumentException that names a
   * shard which is closed or missing. (A put that succeeded on a shard other than the predicted
   * one is the other stale-map signal; the caller compares shard ids itself.)
   */
  isStaleMapSignal(errorCode: string, errorMessage: string): boolean {
    if (errorCode !== 'ResourceNotFoundException' && errorCode !== 'InvalidArgumentException') return false;
    return CLOSED_OR_MISSING_SHARD.test(errorMessage);
  }
}

/**
 * Holds records during their backoff and hands them back when due. One timer serves all of them,
 * armed for the earliest due time: thousands of records retrying at once cost one timer, not
 * thousands. Due items are handed back in one call, earliest first; items due at the same time
 * come back in the order they were scheduled.
 */
export class RetryScheduler<T> {
  readonly #onDue: (items: T[]) => void;
  readonly #now: () => number;
  /** A binary min-heap ordered by (due time, schedule order), in three parallel arrays. */
  readonly #dueTimes: number[] = [];
  readonly #order: number[] = [];
  readonly #items: T[] = [];
  #scheduled = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Infinity;
  #closed = false;

  /**
   * @param onDue receives the items whose delay has passed, earliest first.
   * @param now a monotonic clock in ms; replace it in tests that fake time.
   */
  constructor(onDue: (items: T[]) => void, now: () => number = () => performance.now()) {
    this.#onDue = onDue;
    this.#now = now;
  }

  /** Items waiting for their delay to pass. */
  get size(): number {
    return this.#items.length;
  }

  /**
   * Hands `item` to `onDue` once `delayMs` has passed. After {@link close} the item is held
   * without a timer until {@link drain}.
   */
  schedule(item: T, delayMs: number): void {
    const due = this.#now() + Math.max(0, delayMs);
    this.#push(due, this.#scheduled++, item);
    if (!this.#closed && due < this.#timerDue) this.#arm(due);
  }

  /** Returns every waiting item at once, earliest due first, and cancels the timer (close, flush). */
  drain(): T[] {
    this.#disarm();
    const drained: T[] = [];
    while (this.#items.length > 0) drained.push(this.#pop());
    return drained;
  }

  /** Cancels the timer for good. Nothing is dropped: items still waiting are returned by {@link drain}. */
  close(): void {
    this.#closed = true;
    this.#disarm();
  }

  #arm(due: number): void {
    this.#disarm();
    this.#timerDue = due;
    this.#timer = setTimeout(this.#fire, Math.max(0, due - this.#now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    // A timer can fire a fraction of a millisecond early (libuv's cached loop time); anything not
    // yet due waits for the rearmed timer.
    const now = this.#now();
    const due: T[] = [];
    while (this.#items.length > 0 && this.#dueTimes[0]! <= now) due.push(this.#pop());
    if (this.#items.length > 0 && !this.#closed) this.#arm(this.#dueTimes[0]!);
    if (due.length > 0) this.#onDue(due);
  };

  /** True when the entry at `index` comes before (due, order). */
  #before(index: number, due: number, order: number): boolean {
    const indexDue = this.#dueTimes[index]!;
    return indexDue < due || (indexDue === due && this.#order[index]! < order);
  }

  #move(from: number, to: number): void {
    this.#dueTimes[to] = this.#dueTimes[from]!;
    this.#order[to] = this.#order[from]!;
    this.#items[to] = this.#items[from]!;
  }

  #set(index: number, due: number, order: number, item: T): void {
    this.#dueTimes[index] = due;
    this.#order[index] = order;
    this.#items[index] = item;
  }

  #push(due: number, order: number, item: T): void {
    let index = this.#items.length;
    this.#set(index, due, order, item);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.#before(parent, due, order)) break;
      this.#move(parent, index);
      index = parent;
    }
    this.#set(index, due, order, item);
  }

  #pop(): T {
    const top = this.#items[0]!;
    const lastDue = this.#dueTimes.pop()!;
    const lastOrder = this.#order.pop()!;
    const lastItem = this.#items.pop()!;
    const length = this.#items.length;
    if (length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.#before(right, this.#dueTimes[left]!, this.#order[left]!) ? right : left;
      if (!this.#before(child, lastDue, lastOrder)) break;
      this.#move(child, index);
      index = child;
    }
    this.#set(index, lastDue, lastOrder, lastItem);
    return top;
  }
}
