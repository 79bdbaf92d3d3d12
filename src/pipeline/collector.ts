import { MAX_BYTES_PER_PUT_RECORDS, MAX_RECORDS_PER_PUT_RECORDS } from '../format/limits.js';

/** Limits of one PutRecords batch. */
export interface CollectorOptions {
  /** Most Kinesis records in one batch (never above 500). */
  readonly maxCount: number;
  /** Largest batch in bytes of data plus partition keys (never above 5 MiB). */
  readonly maxSize: number;
  /** How long the oldest record in a batch may wait, in ms. */
  readonly lingerMs: number;
}

/** What the collector needs to know of a Kinesis record. */
export interface Collectable {
  /** Bytes Kinesis counts for it: data plus partition key. */
  readonly size: number;
  /** When its oldest user record entered the pipeline (ms). */
  readonly oldestAt: number;
  /** The earliest deadline of its user records (ms). */
  readonly expiresAt: number;
}

/** The Kinesis records of one PutRecords request. */
export interface Batch<A extends Collectable> {
  readonly entries: A[];
  readonly size: number;
  readonly oldestAt: number;
  /** The earliest deadline of its entries. */
  readonly expiresAt: number;
}

/**
 * Gathers Kinesis records of any shards into PutRecords batches. A batch goes to `emit` when the next
 * record would not fit, when it is full by count, or when its oldest record has waited `lingerMs`.
 */
export class Collector<A extends Collectable> {
  readonly #maxCount: number;
  readonly #maxSize: number;
  readonly #lingerMs: number;
  readonly #emit: (batch: Batch<A>) => void;
  #entries: A[] = [];
  #size = 0;
  #oldestAt = Infinity;
  #expiresAt = Infinity;

  constructor(options: CollectorOptions, emit: (batch: Batch<A>) => void) {
    this.#maxCount = Math.min(options.maxCount, MAX_RECORDS_PER_PUT_RECORDS);
    this.#maxSize = Math.min(options.maxSize, MAX_BYTES_PER_PUT_RECORDS);
    this.#lingerMs = options.lingerMs;
    this.#emit = emit;
  }

  /** Kinesis records waiting in the open batch. */
  get count(): number {
    return this.#entries.length;
  }

  /** Adds one Kinesis record; emits the batch it closes, if any. */
  add(entry: A): void {
    if (this.#entries.length > 0 && this.#size + entry.size > this.#maxSize) this.closeAll();
    this.#entries.push(entry);
    this.#size += entry.size;
    if (entry.oldestAt < this.#oldestAt) this.#oldestAt = entry.oldestAt;
    if (entry.expiresAt < this.#expiresAt) this.#expiresAt = entry.expiresAt;
    if (this.#entries.length >= this.#maxCount) this.closeAll();
  }

  /** Emits the open batch if its oldest record has waited lingerMs by `now`. */
  closeDue(now: number): void {
    if (this.#oldestAt + this.#lingerMs <= now) this.closeAll();
  }

  /** Emits the open batch now, if it holds anything. */
  closeAll(): void {
    if (this.#entries.length === 0) return;
    const batch: Batch<A> = { entries: this.#entries, size: this.#size, oldestAt: this.#oldestAt, expiresAt: this.#expiresAt };
    this.#entries = [];
    this.#size = 0;
    this.#oldestAt = Infinity;
    this.#expiresAt = Infinity;
    this.#emit(batch);
  }

  /** Takes the open batch's records back without emitting them, e.g. to re-predict after the shard map changed. */
  takeAll(): A[] {
    const entries = this.#entries;
    this.#entries = [];
    this.#size = 0;
    this.#oldestAt = Infinity;
    this.#expiresAt = Infinity;
    return entries;
  }

  /** When the open batch is due (ms), or Infinity when it is empty. */
  nextDueTime(): number {
    return this.#oldestAt + this.#lingerMs;
  }
}
