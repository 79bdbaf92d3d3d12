import type { UserRecordResult } from '../records.js';

/** Settles a record given to the pipeline: with its result, or with a rejected promise. */
export type Settle = (value: UserRecordResult | PromiseLike<UserRecordResult>) => void;

/**
 * The promises of add() records spooled and not yet settled, by sequence number, and the callers
 * waiting for their count to fall under `max` (maxOutstandingRecords): each holds memory.
 */
export class AddWaiters {
  readonly max: number;
  readonly #waiters = new Map<number, Settle>();
  #roomWaiters: (() => void)[] = [];
  #stopped = false;

  constructor(max: number) {
    this.max = max;
  }

  /** add() records waiting for Kinesis. */
  get size(): number {
    return this.#waiters.size;
  }

  /** Whether `max` records wait already. */
  get full(): boolean {
    return this.#waiters.size >= this.max;
  }

  /** Resolves once fewer than `max` wait (at once if they do now, or after stop). */
  room(): Promise<void> {
    if (!this.full || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** The promise of the add() record spooled as `sequence`. */
  wait(sequence: number): Promise<UserRecordResult> {
    return new Promise<UserRecordResult>((resolve) => this.#waiters.set(sequence, resolve));
  }

  /** Settles add()'s promise for `sequence` with `value`, if add() took it. */
  settle(sequence: number, value: UserRecordResult | PromiseLike<UserRecordResult>): void {
    this.#take(sequence)?.(value);
  }

  /** Rejects add()'s promise for `sequence`, if add() took it; the rejected promise is made only then. */
  reject(sequence: number, error: unknown): void {
    this.#take(sequence)?.(Promise.reject(error));
  }

  /** Rejects every promise still waiting with `error` and resolves every room waiter. */
  stop(error: Error): void {
    this.#stopped = true;
    const waiters = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const wake of this.#roomWaiters.splice(0)) wake();
    for (const waiter of waiters) waiter(Promise.reject(error));
  }

  #take(sequence: number): Settle | undefined {
    const waiter = this.#waiters.get(sequence);
    if (waiter === undefined) return undefined;
    this.#waiters.delete(sequence);
    if (this.#roomWaiters.length > 0 && !this.full) {
      const waiting = this.#roomWaiters;
      this.#roomWaiters = [];
      for (const wake of waiting) wake();
    }
    return waiter;
  }
}
