/**
 * The linger timer: one timer for the earliest moment something buffered is due (the oldest open
 * aggregate's or the open batch's linger), re-armed only when something falls due sooner.
 */
export class LingerTimer {
  readonly #nextDueTime: () => number;
  readonly #onDue: (now: number) => void;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #closed = false;

  /**
   * @param nextDueTime when the next buffered thing is due (ms), Infinity when nothing is.
   * @param onDue closes what is due by `now`; the timer re-arms itself afterwards.
   * @param now a monotonic clock in ms; replace it in tests that fake time.
   */
  constructor(nextDueTime: () => number, onDue: (now: number) => void, now: () => number = () => performance.now()) {
    this.#nextDueTime = nextDueTime;
    this.#onDue = onDue;
    this.#now = now;
  }

  /** True while a timer is pending. */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Arms the timer for the next due time, unless one is pending for that time or sooner. */
  arm(): void {
    if (this.#closed) return;
    const due = this.#nextDueTime();
    if (due === Infinity || due >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = due;
    this.#timer = setTimeout(this.#fire, Math.max(0, Math.ceil(due - this.#now())));
  }

  /** Cancels the timer for good. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#onDue(this.#now());
    this.arm();
  };
}
