import { AggregateBuilder, type KinesisRecord } from '../format/aggregated-record.js';

/** Limits of one aggregate. */
export interface AggregatorOptions {
  /** Most user records in one aggregate. */
  readonly maxCount: number;
  /** Largest aggregate in bytes, as Kinesis counts it (data plus partition key). */
  readonly maxSize: number;
  /** How long the oldest record of an open aggregate may wait, in ms. */
  readonly lingerMs: number;
  readonly compression: 'none' | 'lz4';
  /** Where encoded aggregates' bytes come from. @default Buffer.allocUnsafe */
  readonly allocate?: (size: number) => Buffer;
}

/** One Kinesis record made of user records that all belong to `shard`. */
export interface ClosedAggregate<T> {
  /** Index of the predicted shard in the shard map the records were predicted with. */
  readonly shard: number;
  readonly record: KinesisRecord;
  /** The user records it holds, in sub-sequence order. */
  readonly items: T[];
  /** Bytes Kinesis counts for it: data plus partition key. */
  readonly size: number;
  /** When its oldest record entered the aggregator (ms, the producer's clock). */
  readonly oldestAt: number;
}

/**
 * A shard's open aggregate: the builder itself, with what the aggregator tracks of it. One object
 * rather than a record pointing at a builder, because every user record touches it and with
 * thousands of shards each one is cold in the cache: one object is one miss fewer.
 */
class OpenAggregate<T> extends AggregateBuilder {
  shard = 0;
  items: T[] = [];
  openedAt = 0;
  /** Bumped on every close, so that stale entries in the deadline queue are recognised. */
  epoch = 0;
  /** The first record's hash key: the aggregate is sent with it, so that it lands on the predicted shard. */
  readonly firstHashKey = new Uint32Array(4);
}

interface DeadlineEntry<T> {
  readonly aggregate: OpenAggregate<T>;
  readonly epoch: number;
}

/**
 * Packs user records into one open aggregate per predicted shard, so an aggregate never mixes shards.
 * An aggregate closes when the next record would not fit, when it holds `maxCount` records, or when its
 * oldest record has waited `lingerMs`. Closed aggregates go to `emit` at once.
 */
export class Aggregator<T> {
  readonly #options: AggregatorOptions;
  readonly #emit: (aggregate: ClosedAggregate<T>) => void;
  /**
   * The open aggregate of each shard, by shard index: an array rather than a Map, because every
   * record looks its shard up here. Holes cost a pointer a shard; the aggregates are only where open.
   */
  readonly #open: Array<OpenAggregate<T> | undefined> = [];
  #openCount = 0;
  /**
   * Closed aggregates kept for reuse. A builder is costly to create, and every shard of a busy stream
   * reopens one after each close; so as many are kept as were ever open at once (at most one a shard),
   * never more.
   */
  readonly #spare: OpenAggregate<T>[] = [];
  #mostOpen = 0;
  /** Open aggregates in opening order, which is deadline order since every deadline is openedAt + lingerMs. */
  #deadlines: DeadlineEntry<T>[] = [];
  #deadlineHead = 0;

  constructor(options: AggregatorOptions, emit: (aggregate: ClosedAggregate<T>) => void) {
    this.#options = options;
    this.#emit = emit;
  }

  /** Number of shards with an open aggregate. */
  get openCount(): number {
    return this.#openCount;
  }

  /**
   * Adds one validated user record for `shard`. `hashKey` at `offset` is the record's 128-bit hash key;
   * it is copied when the record opens an aggregate.
   */
  add(shard: number, item: T, partitionKey: string, explicitHashKey: string | undefined, data: Uint8Array,
    hashKey: Uint32Array, offset: number, now: number): void {
    let aggregate = this.#open[shard] ?? this.#openAggregate(shard, hashKey, offset, now);
    if (!aggregate.tryAdd(partitionKey, explicitHashKey, data, this.#options.maxSize)) {
      this.#close(aggregate);
      aggregate = this.#openAggregate(shard, hashKey, offset, now);
      aggregate.tryAdd(partitionKey, explicitHashKey, data, this.#options.maxSize);
    }
    aggregate.items.push(item);
    if (aggregate.items.length >= this.#options.maxCount) this.#close(aggregate);
  }

  /** Closes every aggregate whose oldest record has waited lingerMs by `now`. */
  closeDue(now: number): void {
    const dueBefore = now - this.#options.lingerMs;
    while (this.#deadlineHead < this.#deadlines.length) {
      const entry = this.#deadlines[this.#deadlineHead] as DeadlineEntry<T>;
      if (entry.epoch === entry.aggregate.epoch) {
        if (entry.aggregate.openedAt > dueBefore) break;
        this.#close(entry.aggregate);
      }
      this.#deadlineHead++;
    }
    this.#compactDeadlines();
  }

  /** Closes every open aggregate now (flush). */
  closeAll(): void {
    for (const aggregate of this.#openAggregates()) this.#close(aggregate);
    this.#deadlines = [];
    this.#deadlineHead = 0;
  }

  /** Takes every record out of the open aggregates without encoding them, e.g. to re-predict after the shard map changed. */
  takeAllItems(): T[] {
    const items: T[] = [];
    for (const aggregate of this.#openAggregates()) {
      for (const item of aggregate.items) items.push(item);
      aggregate.reset();
      this.#open[aggregate.shard] = undefined;
      this.#release(aggregate);
    }
    this.#openCount = 0;
    this.#deadlines = [];
    this.#deadlineHead = 0;
    return items;
  }

  /** Takes the records out of one shard's open aggregate without encoding them (strictOrdering puts retries ahead of them). */
  takeItems(shard: number): T[] {
    const aggregate = this.#open[shard];
    if (aggregate === undefined) return [];
    const items = aggregate.items;
    aggregate.reset();
    this.#open[shard] = undefined;
    this.#openCount--;
    this.#release(aggregate);
    return items;
  }

  /** When the oldest open aggregate is due (ms), or Infinity when none is open. */
  nextDueTime(): number {
    for (let i = this.#deadlineHead; i < this.#deadlines.length; i++) {
      const entry = this.#deadlines[i] as DeadlineEntry<T>;
      if (entry.epoch === entry.aggregate.epoch) return entry.aggregate.openedAt + this.#options.lingerMs;
    }
    return Infinity;
  }

  #openAggregate(shard: number, hashKey: Uint32Array, offset: number, now: number): OpenAggregate<T> {
    const aggregate = this.#spare.pop() ?? new OpenAggregate<T>({ compression: this.#options.compression, allocate: this.#options.allocate });
    aggregate.shard = shard;
    aggregate.openedAt = now;
    const first = aggregate.firstHashKey;
    first[0] = hashKey[offset] as number;
    first[1] = hashKey[offset + 1] as number;
    first[2] = hashKey[offset + 2] as number;
    first[3] = hashKey[offset + 3] as number;
    // Grown slot by slot: a write far past the end would turn the array into a slow dictionary.
    while (this.#open.length <= shard) this.#open.push(undefined);
    this.#open[shard] = aggregate;
    if (++this.#openCount > this.#mostOpen) this.#mostOpen = this.#openCount;
    this.#deadlines.push({ aggregate, epoch: aggregate.epoch });
    return aggregate;
  }

  #close(aggregate: OpenAggregate<T>): void {
    const size = aggregate.size;
    const record = aggregate.finish(aggregate.firstHashKey, 0);
    const closed: ClosedAggregate<T> = { shard: aggregate.shard, record, items: aggregate.items, size, oldestAt: aggregate.openedAt };
    this.#open[aggregate.shard] = undefined;
    this.#openCount--;
    this.#release(aggregate);
    this.#emit(closed);
  }

  #openAggregates(): OpenAggregate<T>[] {
    const open: OpenAggregate<T>[] = [];
    for (const aggregate of this.#open) if (aggregate !== undefined) open.push(aggregate);
    return open;
  }

  #release(aggregate: OpenAggregate<T>): void {
    aggregate.epoch++;
    aggregate.items = [];
    if (this.#spare.length < this.#mostOpen) this.#spare.push(aggregate);
  }

  #compactDeadlines(): void {
    if (this.#deadlineHead > 1024 && this.#deadlineHead * 2 > this.#deadlines.length) {
      this.#deadlines = this.#deadlines.slice(this.#deadlineHead);
      this.#deadlineHead = 0;
    }
  }
}
