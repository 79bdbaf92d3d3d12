/**
 * Aggregates that left a stage unsent because their earliest deadline came: the records due fail
 * as expired, the others are aggregated again. With strictOrdering they are parked ahead of their
 * shard's later records so that order holds, hence from the last aggregate back.
 */
import type { PendingAggregate, PendingRecord } from '../pending-record.js';

/** What {@link AggregateExpiry} does with the records of expired aggregates. */
export interface AggregateExpirySink {
  /** Fails the records of `aggregates` whose deadline is at or before `cutoff` and returns the others (Settler.expireDue). */
  expireDue(aggregates: readonly PendingAggregate[], cutoff: number): PendingRecord[];
  /** Records still alive, to be aggregated again. */
  readmit(items: readonly PendingRecord[]): void;
  /** strictOrdering: records still alive, to wait ahead of their shard's later records. */
  block(shard: number, live: readonly PendingRecord[]): void;
}

/** Expires the due records of aggregates given back by the shard gate or the send queue. */
export class AggregateExpiry {
  readonly #strictOrdering: boolean;
  readonly #sink: AggregateExpirySink;
  readonly #now: () => number;

  constructor(strictOrdering: boolean, sink: AggregateExpirySink, now: () => number = () => performance.now()) {
    this.#strictOrdering = strictOrdering;
    this.#sink = sink;
    this.#now = now;
  }

  /** Fails the records due within `marginMs` from now; the others go on. */
  expire(aggregates: readonly PendingAggregate[], marginMs: number): void {
    const cutoff = this.#now() + marginMs;
    if (!this.#strictOrdering) {
      this.#sink.readmit(this.#sink.expireDue(aggregates, cutoff));
      return;
    }
    for (let i = aggregates.length - 1; i >= 0; i--) {
      const aggregate = aggregates[i] as PendingAggregate;
      const live = this.#sink.expireDue([aggregate], cutoff);
      if (live.length > 0) this.#sink.block(aggregate.shard, live);
    }
  }
}
