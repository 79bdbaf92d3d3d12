/**
 * Moves batches from the send queue to the sender while it has a free connection, and hands each
 * request's outcome on with the shard map it was predicted with and when it was sent.
 */
import type { KinesisRecord } from '../format/aggregate-encoder.js';
import type { PendingAggregate } from '../pending-record.js';
import type { Batch } from './collector.js';
import type { SendOutcome } from './sender.js';
import type { ShardMap } from './shard-map.js';

/** What {@link RequestDispatch} needs of the sender. */
export interface RequestSender {
  /** A connection is free for one more request. */
  readonly hasCapacity: boolean;
  /** Sends one request; never rejects, every fault is an outcome. */
  send(records: readonly KinesisRecord[]): Promise<SendOutcome>;
}

/** Called once per request with its outcome. */
export type RequestCompleted = (
  entries: readonly PendingAggregate[],
  outcome: SendOutcome,
  map: ShardMap | undefined,
  sentAt: number,
) => void;

/** Sends the queued batches as connections free up. */
export class RequestDispatch {
  readonly #sender: RequestSender;
  readonly #queue: { shift(): Batch<PendingAggregate> | undefined };
  readonly #currentMap: () => ShardMap | undefined;
  readonly #completed: RequestCompleted;
  readonly #now: () => number;

  constructor(
    sender: RequestSender,
    queue: { shift(): Batch<PendingAggregate> | undefined },
    currentMap: () => ShardMap | undefined,
    completed: RequestCompleted,
    now: () => number = () => performance.now(),
  ) {
    this.#sender = sender;
    this.#queue = queue;
    this.#currentMap = currentMap;
    this.#completed = completed;
    this.#now = now;
  }

  /** Sends queued batches until the sender is full or the queue is empty. */
  pump(): void {
    while (this.#sender.hasCapacity) {
      const batch = this.#queue.shift();
      if (batch === undefined) return;
      this.#dispatch(batch);
    }
  }

  #dispatch(batch: Batch<PendingAggregate>): void {
    const entries = batch.entries;
    const records: KinesisRecord[] = new Array<KinesisRecord>(entries.length);
    for (let i = 0; i < records.length; i++) records[i] = (entries[i] as PendingAggregate).record;
    const map = this.#currentMap();
    const sentAt = this.#now();
    void this.#sender.send(records).then((outcome) => this.#completed(entries, outcome, map, sentAt));
  }
}
