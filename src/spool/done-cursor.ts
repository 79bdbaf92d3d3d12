interface DoneWaiter {
  readonly sequence: number;
  readonly resolve: () => void;
}

/**
 * The lowest sequence number not yet done: records are acknowledged in any order, and the cursor
 * moves past a record only once it and every record before it are done. whenDone() waits on it.
 */
export class DoneCursor {
  readonly #isDone: (sequence: number) => boolean;
  #low: number;
  #waiters: DoneWaiter[] = [];

  constructor(low: number, isDone: (sequence: number) => boolean) {
    this.#low = low;
    this.#isDone = isDone;
  }

  /** The lowest sequence number not yet done (or the next to be appended). */
  get low(): number {
    return this.#low;
  }

  /** Moves past every done record below `end` (the next sequence to be appended) and resolves the waiters passed. */
  advance(end: number): void {
    while (this.#low < end && this.#isDone(this.#low)) this.#low++;
    if (this.#waiters.length === 0) return;
    const waiting: DoneWaiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.sequence < this.#low) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#waiters = waiting;
  }

  /** Resolves once every record through `sequence` is done (at once if they are now). */
  whenDone(sequence: number): Promise<void> {
    if (this.#low > sequence) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ sequence, resolve }));
  }
}
