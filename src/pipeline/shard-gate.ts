/**
 * The shard gate: the stage between the aggregator and the collector that decides when each
 * shard's next Kinesis record may go. It owns everything that waits per shard, as the KPL's
 * Limiter does:
 * - a hold queue per shard of aggregates over the shard's rate, in earliest-deadline order, with
 *   one timer for the moment the next of them may pass;
 * - strictOrdering's state: the shards with a request in flight ("busy"), and the records parked
 *   behind a shard's retry until its backoff ends;
 * - the expiry of all it holds: an aggregate whose earliest deadline is near leaves the queue
 *   without taking tokens, so that expired records never take a live record's share of the rate.
 */
import { RetryScheduler } from './retrier.js';

/** What the gate reads of an aggregate. */
export interface GatedAggregate<T> {
  /** The predicted shard's index. */
  readonly shard: number;
  /** Bytes the shard's limit counts for it. */
  readonly size: number;
  /** The earliest deadline of its records (ms). */
  readonly expiresAt: number;
  readonly items: readonly T[];
}

/** The per-shard rate the gate paces aggregates by (ShardRateLimiter). */
export interface ShardLimiter {
  /** Takes `records` and `bytes` from the shard's allowance if it holds enough, else takes nothing and returns false. */
  tryTake(shard: number, records: number, bytes: number): boolean;
  /** Milliseconds until tryTake(shard, records, bytes) could succeed. */
  waitTime(shard: number, records: number, bytes: number): number;
}

/** Options of a {@link ShardGate}. */
export interface ShardGateOptions<T> {
  /** One request in flight per shard, and a shard's later records wait behind its retries. */
  readonly strictOrdering: boolean;
  /**
   * How long an aggregate let through may still wait before its request starts (the collector's
   * linger), in ms: one whose earliest deadline is nearer than that expires here instead.
   */
  readonly expiryMarginMs: number;
  /** A record's deadline (ms, on the gate's clock). */
  readonly deadlineOf: (item: T) => number;
}

/** Where the gate sends aggregates and records. */
export interface ShardGateSink<T, A extends GatedAggregate<T>> {
  /** An aggregate may go now: to the collector. */
  pass(aggregate: A): void;
  /**
   * Aggregates whose earliest deadline came within the margin, taken out unsent. With
   * strictOrdering, every aggregate of that shard held behind the first comes along, in order.
   */
  expired(aggregates: A[]): void;
  /** strictOrdering: parked records whose deadline came within the margin. */
  expiredParked(items: T[]): void;
  /** strictOrdering: a shard's backoff ended; its parked records, in order, go back to the aggregator. */
  unparked(items: T[]): void;
  /** The gate's timer let aggregates pass: time to arm the collector's timer. */
  released(): void;
}

/** Holds, paces and expires each shard's aggregates. */
export class ShardGate<T, A extends GatedAggregate<T> = GatedAggregate<T>> {
  readonly #limiter: ShardLimiter;
  readonly #strictOrdering: boolean;
  readonly #marginMs: number;
  readonly #deadlineOf: (item: T) => number;
  readonly #sink: ShardGateSink<T, A>;
  readonly #now: () => number;
  /** Aggregates a shard may not send yet: over its rate, or (strictOrdering) behind its request in flight. */
  readonly #held = new Map<number, A[]>();
  /** strictOrdering: shards with an aggregate between the gate and its request's outcome. */
  readonly #busy = new Set<number>();
  /** strictOrdering: shards waiting out a retry's backoff, with the records that must go first, in order. */
  readonly #parked = new Map<number, T[]>();
  /** strictOrdering: the earliest deadline among each shard's parked records. */
  readonly #parkedExpiresAt = new Map<number, number>();
  readonly #unblocks: RetryScheduler<number>;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #closed = false;

  /** @param now a monotonic clock in ms, the records' clock; replace it in tests that fake time. */
  constructor(limiter: ShardLimiter, options: ShardGateOptions<T>, sink: ShardGateSink<T, A>, now: () => number = () => performance.now()) {
    this.#limiter = limiter;
    this.#strictOrdering = options.strictOrdering;
    this.#marginMs = options.expiryMarginMs;
    this.#deadlineOf = options.deadlineOf;
    this.#sink = sink;
    this.#now = now;
    this.#unblocks = new RetryScheduler<number>((shards) => this.#unpark(shards), now);
  }

  /** Shards whose records are parked behind a retry (strictOrdering). */
  get parkedShards(): number {
    return this.#parked.size;
  }

  /** Aggregates held, for tests and diagnostics. */
  get heldCount(): number {
    let count = 0;
    for (const queue of this.#held.values()) count += queue.length;
    return count;
  }

  /** An aggregate from the aggregator: passes at once if its shard's rate (and order) allows, else waits here. */
  admit(aggregate: A): void {
    const shard = aggregate.shard;
    const held = this.#held.get(shard);
    if (held !== undefined) {
      this.#hold(held, aggregate);
      return;
    }
    // Expired, or waiting for its request in flight: the timer deals with it. Never the sink at
    // once: admit() runs inside the aggregator's emit, which must not be entered again.
    if (aggregate.expiresAt - this.#marginMs <= this.#now() || (this.#strictOrdering && this.#busy.has(shard))) {
      this.#held.set(shard, [aggregate]);
      this.#armFor(shard, aggregate);
      return;
    }
    if (!this.#limiter.tryTake(shard, 1, aggregate.size)) {
      this.#held.set(shard, [aggregate]);
      this.#armFor(shard, aggregate);
      return;
    }
    if (this.#strictOrdering) this.#busy.add(shard);
    this.#sink.pass(aggregate);
  }

  /** strictOrdering: parks `item` if its shard waits out a retry's backoff, and says whether it did. */
  parks(shard: number, item: T): boolean {
    if (this.#parked.size === 0) return false;
    const parked = this.#parked.get(shard);
    if (parked === undefined) return false;
    parked.push(item);
    const deadline = this.#deadlineOf(item);
    if (deadline < (this.#parkedExpiresAt.get(shard) as number)) {
      this.#parkedExpiresAt.set(shard, deadline);
      this.#arm(deadline - this.#marginMs);
    }
    return true;
  }

  /** strictOrdering: the request that carried an aggregate of `shard` finished; call {@link release} after the last. */
  finished(shard: number): void {
    this.#busy.delete(shard);
  }

  /**
   * strictOrdering: parks a shard's failed records for `delayMs`, with everything of the shard that
   * came after them: its held aggregates' records, then `later` (the aggregator's open records).
   */
  block(shard: number, failed: readonly T[], later: readonly T[], delayMs: number): void {
    const records: T[] = [...failed];
    for (const aggregate of this.#held.get(shard) ?? []) records.push(...aggregate.items);
    this.#held.delete(shard);
    records.push(...later);
    const parked = this.#parked.get(shard);
    if (parked === undefined) this.#parked.set(shard, records);
    else parked.unshift(...records);
    this.#updateParkedExpiry(shard, this.#parked.get(shard) as T[]);
    this.#unblocks.schedule(shard, delayMs);
  }

  /** Lets through what may go now and expires what may not wait longer; arms the timer for the rest. */
  release(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#now();
    const margin = this.#marginMs;
    let expired: A[] | undefined;
    let next = Infinity;
    for (const [shard, queue] of this.#held) {
      while (queue.length > 0) {
        const head = queue[0] as A;
        if (head.expiresAt - margin <= now) {
          // strictOrdering: the shard's records after the expired ones go back in order, so all of them leave.
          const leaving = this.#strictOrdering ? queue.splice(0) : [queue.shift() as A];
          (expired ??= []).push(...leaving);
          continue;
        }
        if (this.#strictOrdering && this.#busy.has(shard)) {
          next = Math.min(next, head.expiresAt - margin);
          break;
        }
        if (!this.#limiter.tryTake(shard, 1, head.size)) {
          next = Math.min(next, head.expiresAt - margin, now + Math.max(1, this.#limiter.waitTime(shard, 1, head.size)));
          break;
        }
        queue.shift();
        if (this.#strictOrdering) this.#busy.add(shard);
        this.#sink.pass(head);
      }
      if (queue.length === 0) this.#held.delete(shard);
    }
    const expiredParked = this.#parked.size > 0 ? this.#expireParked(now) : undefined;
    for (const at of this.#parkedExpiresAt.values()) next = Math.min(next, at - margin);
    this.#arm(next);
    if (expired !== undefined) this.#sink.expired(expired);
    if (expiredParked !== undefined) this.#sink.expiredParked(expiredParked);
    this.#sink.released();
  }

  /**
   * Takes every record the gate holds, held and parked, in order per shard, and forgets its
   * backoffs: the shard map changed, or the pipeline closes.
   */
  takeAll(): T[] {
    const items: T[] = [];
    for (const queue of this.#held.values()) for (const aggregate of queue) items.push(...aggregate.items);
    this.#held.clear();
    for (const parked of this.#parked.values()) items.push(...parked);
    this.#parked.clear();
    this.#parkedExpiresAt.clear();
    this.#unblocks.drain();
    return items;
  }

  /** Stops the timers; records still held are for {@link takeAll}. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unblocks.close();
  }

  /**
   * Queues an aggregate behind its shard's rate, earliest deadline first, as the KPL's limiter does:
   * records back from a retry would otherwise wait behind a backlog younger than them, again at every
   * throttle, and expire under sustained load. strictOrdering keeps arrival order.
   */
  #hold(queue: A[], aggregate: A): void {
    const last = queue[queue.length - 1];
    const deadline = aggregate.expiresAt;
    if (this.#strictOrdering || last === undefined || last.expiresAt <= deadline) {
      queue.push(aggregate);
      if (queue.length === 1) this.#armFor(aggregate.shard, aggregate);
      return;
    }
    // The queue is in deadline order: find the first aggregate due after this one.
    let low = 0;
    let high = queue.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((queue[middle] as A).expiresAt > deadline) high = middle;
      else low = middle + 1;
    }
    queue.splice(low, 0, aggregate);
    if (low === 0) this.#armFor(aggregate.shard, aggregate);
  }

  /** When the head of a shard's queue can next pass or must expire. */
  #dueTime(shard: number, head: A, now: number): number {
    const expiry = head.expiresAt - this.#marginMs;
    if (this.#strictOrdering && this.#busy.has(shard)) return expiry;
    return Math.min(expiry, now + this.#limiter.waitTime(shard, 1, head.size));
  }

  #armFor(shard: number, head: A): void {
    const now = this.#now();
    this.#arm(Math.max(now + 1, this.#dueTime(shard, head, now)));
  }

  #arm(at: number): void {
    if (this.#closed || at === Infinity || at >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(at - this.#now())));
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.release();
  };

  #expireParked(now: number): T[] | undefined {
    let expired: T[] | undefined;
    for (const [shard, at] of this.#parkedExpiresAt) {
      if (at - this.#marginMs > now) continue;
      const parked = this.#parked.get(shard) as T[];
      const live: T[] = [];
      for (const item of parked) {
        if (this.#deadlineOf(item) - this.#marginMs <= now) (expired ??= []).push(item);
        else live.push(item);
      }
      this.#parked.set(shard, live);
      this.#updateParkedExpiry(shard, live);
    }
    return expired;
  }

  #updateParkedExpiry(shard: number, parked: readonly T[]): void {
    let earliest = Infinity;
    for (const item of parked) earliest = Math.min(earliest, this.#deadlineOf(item));
    this.#parkedExpiresAt.set(shard, earliest);
    this.#arm(earliest - this.#marginMs);
  }

  #unpark(shards: readonly number[]): void {
    for (const shard of shards) {
      const parked = this.#parked.get(shard);
      if (parked === undefined) continue;
      this.#parked.delete(shard);
      this.#parkedExpiresAt.delete(shard);
      this.#sink.unparked(parked);
    }
  }
}
