/**
 * The send queue: PutRecords batches the collector closed while every connection was busy, in the
 * order they closed. It owns the expiry of what it holds: a Kinesis record whose earliest deadline
 * passes here leaves its batch unsent, when the batch goes out or, if that takes longer, when its
 * timer fires. Expired entries are handed over from the timer only, never from push() or shift(),
 * which run inside the stages that feed the queue.
 */
import type { Batch, Collectable } from './collector.js';

/** Batches waiting for a connection. */
export class SendQueue<A extends Collectable> {
  readonly #onExpired: (entries: A[]) => void;
  readonly #now: () => number;
  #batches: Batch<A>[] = [];
  #head = 0;
  /** Entries taken out of batches by shift(), for the timer to hand over. */
  #expired: A[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #closed = false;

  /**
   * @param onExpired receives the entries whose deadline passed while they waited, taken out of their batches.
   * @param now a monotonic clock in ms, the records' clock; replace it in tests that fake time.
   */
  constructor(onExpired: (entries: A[]) => void, now: () => number = () => performance.now()) {
    this.#onExpired = onExpired;
    this.#now = now;
  }

  /** Batches waiting. */
  get length(): number {
    return this.#batches.length - this.#head;
  }

  /** Queues a batch behind the others. */
  push(batch: Batch<A>): void {
    this.#batches.push(batch);
    if (batch.expiresAt < this.#timerAt) this.#arm(batch.expiresAt);
  }

  /** The next batch without its expired entries (handed to onExpired), or undefined when none is left. */
  shift(): Batch<A> | undefined {
    while (this.#head < this.#batches.length) {
      const batch = this.#batches[this.#head] as Batch<A>;
      this.#batches[this.#head++] = undefined as unknown as Batch<A>;
      if (this.#head === this.#batches.length) this.#reset();
      if (batch.expiresAt > this.#now()) return batch;
      const live = withoutExpired(batch, this.#now(), this.#expired);
      this.#arm(this.#now());
      if (live !== undefined) return live;
    }
    return undefined;
  }

  /**
   * Takes every entry out, batches in order, then the expired entries not yet handed over (the
   * shard map changed, or the pipeline closes).
   */
  takeAll(): A[] {
    const entries: A[] = [];
    for (let i = this.#head; i < this.#batches.length; i++) entries.push(...(this.#batches[i] as Batch<A>).entries);
    entries.push(...this.#expired);
    this.#expired = [];
    this.#reset();
    return entries;
  }

  /** Stops the timer; batches still queued are for {@link takeAll}. */
  close(): void {
    this.#closed = true;
    this.#disarm();
  }

  /** Empties the queue; its timer goes too, so that an idle pipeline keeps no timer pending. */
  #reset(): void {
    this.#batches = [];
    this.#head = 0;
    if (this.#expired.length === 0) this.#disarm();
  }

  #arm(at: number): void {
    if (this.#closed || at >= this.#timerAt) return;
    this.#disarm();
    this.#timerAt = at;
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(at - this.#now())));
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#now();
    const kept: Batch<A>[] = [];
    const expired = this.#expired;
    this.#expired = [];
    let next = Infinity;
    for (let i = this.#head; i < this.#batches.length; i++) {
      const batch = this.#batches[i] as Batch<A>;
      const live = batch.expiresAt > now ? batch : withoutExpired(batch, now, expired);
      if (live === undefined) continue;
      kept.push(live);
      next = Math.min(next, live.expiresAt);
    }
    this.#batches = kept;
    this.#head = 0;
    if (next !== Infinity) this.#arm(next);
    if (expired.length > 0) this.#onExpired(expired);
  };
}

/** The batch's entries whose deadline is after `now`, as a batch (undefined when none is); the others go to `expired`. */
function withoutExpired<A extends Collectable>(batch: Batch<A>, now: number, expired: A[]): Batch<A> | undefined {
  const live: A[] = [];
  let size = 0;
  let oldestAt = Infinity;
  let expiresAt = Infinity;
  for (const entry of batch.entries) {
    if (entry.expiresAt <= now) {
      expired.push(entry);
      continue;
    }
    live.push(entry);
    size += entry.size;
    oldestAt = Math.min(oldestAt, entry.oldestAt);
    expiresAt = Math.min(expiresAt, entry.expiresAt);
  }
  return live.length === 0 ? undefined : { entries: live, size, oldestAt, expiresAt };
}
