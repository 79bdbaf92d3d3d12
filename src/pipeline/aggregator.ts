import { AggregateBuilder, aggregateSize, type KinesisRecord, newRecordBytes } from '../format/aggregate-encoder.js';
import { HASH_KEY_WORDS } from '../format/hash-key.js';
import { MAX_RECORD_BYTES } from '../format/limits.js';

/** What the aggregator reads of a user record to encode it. */
export interface AggregatedItem {
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  readonly data: Uint8Array;
}

/** Limits of one aggregate, and what the aggregator needs to know of its items. */
export interface AggregatorOptions<T> {
  /** Most user records in one aggregate. */
  readonly maxCount: number;
  /** Largest aggregate in bytes, as Kinesis counts it (data plus partition key). */
  readonly maxSize: number;
  /** How long the oldest record of an open aggregate may wait, in ms. */
  readonly lingerMs: number;
  readonly compression: 'none' | 'lz4';
  /** Where encoded aggregates' bytes come from. @default Buffer.allocUnsafe */
  readonly allocate?: (size: number) => Buffer;
  /**
   * Writes an item's 128-bit hash key at `out[offset..offset+3]`. Needed only when records that
   * did not fit an aggregate open the next one, so that it is sent with its first record's key.
   */
  readonly hashKeyOf: (item: T, out: Uint32Array, offset: number) => void;
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
  /**
   * The earliest deadline of its records (ms, the producer's clock); never later than the true
   * earliest, and earlier only for records left over when one aggregate's records filled two.
   */
  readonly expiresAt: number;
}

/**
 * A shard's open aggregate. While it collects, it holds only its records and the size they would
 * take if every key were new and ASCII; a builder of its own comes only when repeated keys leave
 * room after that size said "full".
 */
interface OpenAggregate<T> {
  shard: number;
  items: T[];
  /** Protobuf bytes of the items, counting every key as new and one byte a character. */
  estimate: number;
  /** Items with an explicit hash key. */
  explicitHashKeys: number;
  /** Set once the aggregate is packed for real and goes on adding records exactly. */
  builder: AggregateBuilder | undefined;
  openedAt: number;
  /** The earliest deadline of its records. */
  expiresAt: number;
  /** Bumped on every close, so that stale entries in the deadline queue are recognised. */
  epoch: number;
}

/**
 * Packs user records into one open aggregate per predicted shard, so an aggregate never mixes shards.
 * An aggregate closes when the next record would not fit, when it holds `maxCount` records, or when its
 * oldest record has waited `lingerMs`. Closed aggregates go to `emit` at once.
 *
 * Why records are only collected until an aggregate is full, and encoded then by one shared builder:
 * with thousands of shards every shard's state is cold in the CPU cache, and a builder's key table
 * and record lists are several objects, each a cache miss per record. The shared builder is always
 * warm. Sizes stay exact: when the estimate says "full" the shared builder packs the records for
 * real. With distinct ASCII keys the estimate is exact, and the packing is the close. Repeated keys
 * leave room, and that aggregate then goes on with the builder as its own; keys longer in UTF-8 than
 * counted leave records over, and those stay open as the shard's next aggregate.
 */
export class Aggregator<T extends AggregatedItem> {
  readonly #options: AggregatorOptions<T>;
  readonly #maxSize: number;
  readonly #emit: (aggregate: ClosedAggregate<T>) => void;
  /**
   * The open aggregate of each shard, by shard index: an array rather than a Map, because every
   * record looks its shard up here. Holes cost a pointer a shard; the aggregates are only where open.
   */
  readonly #open: Array<OpenAggregate<T> | undefined> = [];
  #openCount = 0;
  /** Closed aggregates kept for reuse, as many as were ever open at once (at most one a shard). */
  readonly #spare: OpenAggregate<T>[] = [];
  #mostOpen = 0;
  /** The builder that packs collected records; warm, since every close uses it. */
  #packer: AggregateBuilder;
  /** Builders of aggregates that went on exactly, kept for reuse once they close. */
  readonly #spareBuilders: AggregateBuilder[] = [];
  readonly #hashKey = new Uint32Array(HASH_KEY_WORDS);
  /**
   * Each shard's open aggregate's first record's hash key, four words a shard: the aggregate is sent
   * with it, so that it lands on the predicted shard. One array for every shard rather than one per
   * aggregate: with thousands of shards an aggregate holds a handful of records, and a typed array
   * of its own cost about 10 bytes a buffered record.
   */
  #firstHashKeys = new Uint32Array(0);
  /**
   * Open aggregates in opening order, which is deadline order since every deadline is openedAt +
   * lingerMs, each with its epoch when it opened: two arrays rather than an entry object each, for
   * the same reason.
   */
  #deadlines: OpenAggregate<T>[] = [];
  #deadlineEpochs: number[] = [];
  #deadlineHead = 0;

  constructor(options: AggregatorOptions<T>, emit: (aggregate: ClosedAggregate<T>) => void) {
    this.#options = options;
    this.#maxSize = Math.min(options.maxSize, MAX_RECORD_BYTES);
    this.#emit = emit;
    this.#packer = this.#newBuilder();
  }

  /** Number of shards with an open aggregate. */
  get openCount(): number {
    return this.#openCount;
  }

  /**
   * Adds one validated user record for `shard`. `hashKey` at `offset` is the record's 128-bit hash key;
   * it is copied when the record opens an aggregate. `expiresAt` is the record's deadline.
   */
  add(shard: number, item: T, hashKey: Uint32Array, offset: number, now: number, expiresAt: number): void {
    let aggregate = this.#open[shard] ?? this.#openAggregate(shard, hashKey, offset, now);
    const builder = aggregate.builder;
    if (builder === undefined) {
      aggregate = this.#collect(aggregate, item, hashKey, offset, now, expiresAt);
    } else if (builder.tryAdd(item.partitionKey, item.explicitHashKey, item.data, this.#maxSize)) {
      aggregate.items.push(item);
      if (expiresAt < aggregate.expiresAt) aggregate.expiresAt = expiresAt;
    } else {
      this.#close(aggregate);
      aggregate = this.#collect(this.#openAggregate(shard, hashKey, offset, now), item, hashKey, offset, now, expiresAt);
    }
    if (aggregate.items.length >= this.#options.maxCount) this.#close(aggregate);
  }

  /** Closes every aggregate whose oldest record has waited lingerMs by `now`. */
  closeDue(now: number): void {
    const dueBefore = now - this.#options.lingerMs;
    while (this.#deadlineHead < this.#deadlines.length) {
      const aggregate = this.#deadlines[this.#deadlineHead] as OpenAggregate<T>;
      if (this.#deadlineEpochs[this.#deadlineHead] === aggregate.epoch) {
        if (aggregate.openedAt > dueBefore) break;
        this.#close(aggregate);
      }
      this.#deadlineHead++;
    }
    this.#compactDeadlines();
  }

  /** Closes every open aggregate now (flush). */
  closeAll(): void {
    for (const aggregate of this.#openAggregates()) this.#close(aggregate);
    this.#forgetDeadlines();
  }

  /** Takes every record out of the open aggregates without encoding them, e.g. to re-predict after the shard map changed. */
  takeAllItems(): T[] {
    const items: T[] = [];
    for (const aggregate of this.#openAggregates()) {
      for (const item of aggregate.items) items.push(item);
      this.#open[aggregate.shard] = undefined;
      this.#release(aggregate);
    }
    this.#openCount = 0;
    this.#forgetDeadlines();
    return items;
  }

  /** Takes the records out of one shard's open aggregate without encoding them (strictOrdering puts retries ahead of them). */
  takeItems(shard: number): T[] {
    const aggregate = this.#open[shard];
    if (aggregate === undefined) return [];
    const items = aggregate.items;
    this.#forget(aggregate);
    return items;
  }

  /** When the oldest open aggregate is due (ms), or Infinity when none is open. */
  nextDueTime(): number {
    for (let i = this.#deadlineHead; i < this.#deadlines.length; i++) {
      const aggregate = this.#deadlines[i] as OpenAggregate<T>;
      if (this.#deadlineEpochs[i] === aggregate.epoch) return aggregate.openedAt + this.#options.lingerMs;
    }
    return Infinity;
  }

  /**
   * Adds `item` to a collecting aggregate, packing it for real when the estimate says it is full.
   * Returns the shard's open aggregate that holds `item` afterwards. `hashKey` is the item's hash
   * key, or undefined to compute it if the item has to open an aggregate.
   */
  #collect(
    aggregate: OpenAggregate<T>,
    item: T,
    hashKey: Uint32Array | undefined,
    offset: number,
    now: number,
    expiresAt: number,
  ): OpenAggregate<T> {
    const explicitHashKey = item.explicitHashKey;
    const added = newRecordBytes(
      item.partitionKey.length,
      explicitHashKey === undefined ? -1 : explicitHashKey.length,
      item.data.length,
      aggregate.items.length,
      aggregate.explicitHashKeys,
    );
    if (aggregate.items.length > 0 && aggregateSize(aggregate.estimate + added) > this.#maxSize) {
      return this.#pack(aggregate, item, hashKey, offset, now, expiresAt);
    }
    aggregate.items.push(item);
    if (expiresAt < aggregate.expiresAt) aggregate.expiresAt = expiresAt;
    aggregate.estimate += added;
    if (explicitHashKey !== undefined) aggregate.explicitHashKeys++;
    return aggregate;
  }

  /** The estimate says `item` does not fit: packs the collected records for real and decides. */
  #pack(
    aggregate: OpenAggregate<T>,
    item: T,
    hashKey: Uint32Array | undefined,
    offset: number,
    now: number,
    expiresAt: number,
  ): OpenAggregate<T> {
    const packer = this.#packer;
    const items = aggregate.items;
    const packed = this.#fill(items, 0);
    if (packed === items.length) {
      if (packer.tryAdd(item.partitionKey, item.explicitHashKey, item.data, this.#maxSize)) {
        // Repeated keys left room: this aggregate goes on exactly, with the packer as its own builder.
        items.push(item);
        if (expiresAt < aggregate.expiresAt) aggregate.expiresAt = expiresAt;
        aggregate.builder = packer;
        this.#packer = this.#spareBuilders.pop() ?? this.#newBuilder();
        return aggregate;
      }
      this.#emitPacked(aggregate, items, this.#firstHashKeys, aggregate.shard * HASH_KEY_WORDS);
      this.#forget(aggregate);
      const next = this.#openAggregate(aggregate.shard, this.#hashKeyFor(item, hashKey), hashKey === undefined ? 0 : offset, now);
      return this.#collect(next, item, hashKey, offset, now, expiresAt);
    }
    // Keys longer in UTF-8 than counted: what fit goes out; the rest stays open, with its deadline.
    const rest = items.slice(packed);
    items.length = packed;
    this.#emitPacked(aggregate, items, this.#firstHashKeys, aggregate.shard * HASH_KEY_WORDS);
    aggregate.items = [];
    aggregate.estimate = 0;
    aggregate.explicitHashKeys = 0;
    this.#options.hashKeyOf(rest[0] as T, this.#firstHashKeys, aggregate.shard * HASH_KEY_WORDS);
    let open = aggregate;
    // The records left over keep the deadline of the whole aggregate: at most earlier than theirs.
    for (const left of rest) open = this.#collect(open, left, undefined, 0, now, aggregate.expiresAt);
    return this.#collect(open, item, hashKey, offset, now, expiresAt);
  }

  /** Adds items[from..] to the packer until one does not fit; returns how many it took (at least one). */
  #fill(items: readonly T[], from: number): number {
    const packer = this.#packer;
    let i = from;
    for (; i < items.length; i++) {
      const item = items[i] as T;
      if (!packer.tryAdd(item.partitionKey, item.explicitHashKey, item.data, this.#maxSize)) break;
    }
    return i - from;
  }

  #hashKeyFor(item: T, hashKey: Uint32Array | undefined): Uint32Array {
    if (hashKey !== undefined) return hashKey;
    this.#options.hashKeyOf(item, this.#hashKey, 0);
    return this.#hashKey;
  }

  #openAggregate(shard: number, hashKey: Uint32Array, offset: number, now: number): OpenAggregate<T> {
    const aggregate = this.#spare.pop() ?? {
      shard,
      items: [],
      estimate: 0,
      explicitHashKeys: 0,
      builder: undefined,
      openedAt: now,
      expiresAt: Infinity,
      epoch: 0,
    };
    aggregate.shard = shard;
    aggregate.openedAt = now;
    aggregate.expiresAt = Infinity;
    if (shard * HASH_KEY_WORDS >= this.#firstHashKeys.length) this.#growFirstHashKeys(shard);
    const first = this.#firstHashKeys;
    const at = shard * HASH_KEY_WORDS;
    first[at] = hashKey[offset] as number;
    first[at + 1] = hashKey[offset + 1] as number;
    first[at + 2] = hashKey[offset + 2] as number;
    first[at + 3] = hashKey[offset + 3] as number;
    // Grown slot by slot: a write far past the end would turn the array into a slow dictionary.
    while (this.#open.length <= shard) this.#open.push(undefined);
    this.#open[shard] = aggregate;
    if (++this.#openCount > this.#mostOpen) this.#mostOpen = this.#openCount;
    this.#deadlines.push(aggregate);
    this.#deadlineEpochs.push(aggregate.epoch);
    return aggregate;
  }

  /** Encodes and emits every record of the aggregate, in as many aggregates as they need, and releases it. */
  #close(aggregate: OpenAggregate<T>): void {
    const builder = aggregate.builder;
    if (builder === undefined) {
      this.#emitCollected(aggregate, this.#fill(aggregate.items, 0));
    } else {
      const size = builder.size;
      const record = builder.finish(this.#firstHashKeys, aggregate.shard * HASH_KEY_WORDS);
      this.#emit({
        shard: aggregate.shard,
        record,
        items: aggregate.items,
        size,
        oldestAt: aggregate.openedAt,
        expiresAt: aggregate.expiresAt,
      });
    }
    this.#forget(aggregate);
  }

  /** Emits a collecting aggregate's records, of which the packer holds the first `packed` already. */
  #emitCollected(aggregate: OpenAggregate<T>, packed: number): void {
    const items = aggregate.items;
    if (packed === items.length) {
      this.#emitPacked(aggregate, items, this.#firstHashKeys, aggregate.shard * HASH_KEY_WORDS);
      return;
    }
    let from = 0;
    let firstHashKey: Uint32Array = this.#firstHashKeys;
    let firstHashKeyOffset = aggregate.shard * HASH_KEY_WORDS;
    for (;;) {
      this.#emitPacked(aggregate, items.slice(from, from + packed), firstHashKey, firstHashKeyOffset);
      from += packed;
      if (from === items.length) return;
      firstHashKey = this.#hashKeyFor(items[from] as T, undefined);
      firstHashKeyOffset = 0;
      packed = this.#fill(items, from);
    }
  }

  #forget(aggregate: OpenAggregate<T>): void {
    this.#open[aggregate.shard] = undefined;
    this.#openCount--;
    this.#release(aggregate);
  }

  /** Emits what the packer holds: `items`, of `aggregate`, whose shard, opening time and deadline they take. */
  #emitPacked(aggregate: OpenAggregate<T>, items: T[], firstHashKey: Uint32Array, firstHashKeyOffset: number): void {
    const size = this.#packer.size;
    const record = this.#packer.finish(firstHashKey, firstHashKeyOffset);
    this.#emit({ shard: aggregate.shard, record, items, size, oldestAt: aggregate.openedAt, expiresAt: aggregate.expiresAt });
  }

  #openAggregates(): OpenAggregate<T>[] {
    const open: OpenAggregate<T>[] = [];
    for (const aggregate of this.#open) if (aggregate !== undefined) open.push(aggregate);
    return open;
  }

  #release(aggregate: OpenAggregate<T>): void {
    aggregate.epoch++;
    aggregate.items = [];
    aggregate.estimate = 0;
    aggregate.explicitHashKeys = 0;
    const builder = aggregate.builder;
    if (builder !== undefined) {
      builder.reset();
      aggregate.builder = undefined;
      if (this.#spareBuilders.length < this.#mostOpen) this.#spareBuilders.push(builder);
    }
    if (this.#spare.length < this.#mostOpen) this.#spare.push(aggregate);
  }

  #newBuilder(): AggregateBuilder {
    return new AggregateBuilder({ compression: this.#options.compression, allocate: this.#options.allocate });
  }

  #forgetDeadlines(): void {
    this.#deadlines = [];
    this.#deadlineEpochs = [];
    this.#deadlineHead = 0;
  }

  /** Makes room in the first-hash-key table for `shard`, at least doubling it. */
  #growFirstHashKeys(shard: number): void {
    const grown = new Uint32Array(Math.max(shard + 1, (2 * this.#firstHashKeys.length) / HASH_KEY_WORDS) * HASH_KEY_WORDS);
    grown.set(this.#firstHashKeys);
    this.#firstHashKeys = grown;
  }

  #compactDeadlines(): void {
    if (this.#deadlineHead > 1024 && this.#deadlineHead * 2 > this.#deadlines.length) {
      this.#deadlines = this.#deadlines.slice(this.#deadlineHead);
      this.#deadlineEpochs = this.#deadlineEpochs.slice(this.#deadlineHead);
      this.#deadlineHead = 0;
    }
  }
}
