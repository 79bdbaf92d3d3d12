import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ResolvedConfig } from '../config.js';
import type { KinesisRecord } from '../format/aggregate-encoder.js';
import { hashPartitionKey, parseHashKey } from '../format/hash-key.js';
import { LARGEST_RECORD_BYTES, MAX_RECORD_BYTES, SHARD_MAX_BYTES_PER_SECOND, SHARD_MAX_RECORDS_PER_SECOND } from '../format/limits.js';
import { monotonicMs, type PendingAggregate, type PendingRecord } from '../pending-record.js';
import { recordTooLarge, type UserRecord } from '../records.js';
import { Aggregator } from './aggregator.js';
import { BufferPool } from './buffer-pool.js';
import { type Batch, Collector } from './collector.js';
import { PRODUCER_CLOSED_ERROR_CODE, type StreamRef } from './kinesis-client.js';
import { ShardRateLimiter, type ShardRate } from './limiter.js';
import { LingerTimer } from './linger-timer.js';
import { MisplacedAggregates } from './misplaced.js';
import type { PipelineObserver } from './observer.js';
import { Retrier, RetryScheduler, THROTTLED_ERROR_CODE } from './retrier.js';
import { SendQueue } from './send-queue.js';
import { type RecordOutcome, Sender, type SendOutcome } from './sender.js';
import { EXPIRED_ERROR_CODE, Settler } from './settle.js';
import { ShardGate } from './shard-gate.js';
import type { ShardMap } from './shard-map.js';
import { ShardMapWait } from './shard-map-wait.js';
import { StreamLimitsTracker } from './stream-limits.js';

/**
 * Free aggregate and request-body buffers a stream keeps at most: a few 5 MiB bodies and a
 * request's worth of 51,200-byte aggregates, which is what one request's turnover needs. Never more
 * than maxOutstandingBytes, so that a producer configured to hold little holds little when idle.
 */
const MAX_FREE_BUFFER_BYTES = 32 * 1024 * 1024;

/** A shard's current rate, as {@link StreamPipeline.shardRates} reports it. */
export interface ShardRateReport extends ShardRate {
  readonly shardId: string;
}

/** What a pipeline needs from the producer that owns it. */
export interface StreamPipelineContext {
  readonly config: ResolvedConfig;
  readonly client: KinesisClient;
  readonly observer: PipelineObserver | undefined;
  /** Called once per record, after its promise settled. */
  settled(item: PendingRecord): void;
}

/**
 * The pipeline of one stream: shard map -> aggregator -> shard gate -> collector -> send queue ->
 * sender -> settle, with retries going back to the aggregator. It only moves records between the
 * stages and drives the linger timer; each stage decides alone.
 */
export class StreamPipeline {
  readonly #context: StreamPipelineContext;
  readonly #config: ResolvedConfig;
  readonly #label: string;
  readonly #recordTtl: number;
  readonly #map: ShardMapWait<PendingRecord>;
  readonly #aggregator: Aggregator<PendingRecord>;
  readonly #limiter: ShardRateLimiter;
  readonly #limits: StreamLimitsTracker;
  /** Records over 1 MiB that came before the stream's own limit was known. */
  #waitingForLimits: PendingRecord[] = [];
  readonly #gate: ShardGate<PendingRecord, PendingAggregate>;
  readonly #collector: Collector<PendingAggregate>;
  readonly #sendQueue: SendQueue<PendingAggregate>;
  readonly #sender: Sender;
  readonly #settler: Settler;
  readonly #retries: RetryScheduler<PendingRecord>;
  readonly #hashKey = new Uint32Array(4);
  readonly #misplaced: MisplacedAggregates;
  readonly #linger: LingerTimer;
  /** A flush() came while records waited outside the aggregator (for the map, in backoff, behind a shard's rate): send them at once when they return. */
  #flushRequested = false;

  constructor(context: StreamPipelineContext, stream: StreamRef) {
    const config = context.config;
    this.#context = context;
    this.#config = config;
    this.#label = stream.streamName ?? stream.streamARN ?? '';
    this.#recordTtl = config.recordTtl;
    const deadlineOf = (item: PendingRecord): number => item.arrivedAt + config.recordTtl;
    this.#map = new ShardMapWait<PendingRecord>(
      context.client,
      stream,
      { retry: config.retry, deadlineOf },
      {
        loaded: (map, previous, waiting) => this.#mapLoaded(map, previous, waiting),
        failed: (items, errorCode, errorMessage) => this.#mapFailed(items, errorCode, errorMessage),
        expired: (items) => {
          for (const item of items)
            this.#settler.fail(item, 'expired', EXPIRED_ERROR_CODE, 'the shard map could not be loaded before recordTtl passed');
        },
      },
    );
    const buffers = new BufferPool({ maxFreeBytes: Math.min(MAX_FREE_BUFFER_BYTES, config.maxOutstandingBytes) });
    this.#aggregator = new Aggregator<PendingRecord>(
      {
        maxCount: config.aggregationMaxCount,
        maxSize: config.aggregationMaxSize,
        lingerMs: config.recordMaxBufferedTime,
        compression: config.compression,
        allocate: (size) => buffers.acquire(size),
        hashKeyOf: (item, out, offset) => writeHashKey(item.record, out, offset),
      },
      (aggregate) => this.#gate.admit(aggregate),
    );
    this.#limiter = new ShardRateLimiter({
      recordsPerSecond: (SHARD_MAX_RECORDS_PER_SECOND * config.rateLimit) / 100,
      bytesPerSecond: (SHARD_MAX_BYTES_PER_SECOND * config.rateLimit) / 100,
      // Adaptive shards start at the service's limits, or at rateLimit % where that is lower.
      adaptive: config.adaptiveRateLimit ? { initialRatio: Math.min(1, 100 / config.rateLimit) } : undefined,
    });
    this.#limits = new StreamLimitsTracker(context.client, stream, { maxRecordSize: config.maxRecordSize, logger: config.logger });
    // An aggregate let through waits at most a linger in the collector; a quarter of recordTtl
    // keeps records alive when the linger is set longer than their TTL.
    const expiryMarginMs = Math.min(config.recordMaxBufferedTime, config.recordTtl / 4);
    this.#gate = new ShardGate<PendingRecord, PendingAggregate>(
      this.#limiter,
      { strictOrdering: config.strictOrdering, expiryMarginMs, deadlineOf },
      {
        pass: (aggregate) => this.#collector.add(aggregate),
        expired: (aggregates) => this.#expire(aggregates, expiryMarginMs),
        expiredParked: (items) => this.#settler.expire(items),
        unparked: (items) => this.#readmit(items),
        released: () => {
          // A flush() that found aggregates held by their shards' rate sends them as they pass, not a linger later.
          if (this.#flushRequested) {
            this.#flushRequested = this.#waitingOutside();
            this.#collector.closeAll();
          }
          if (this.#collector.count > 0) this.#linger.arm();
        },
      },
    );
    this.#collector = new Collector<PendingAggregate>(
      {
        maxCount: config.collectionMaxCount,
        maxSize: config.collectionMaxSize,
        lingerMs: config.recordMaxBufferedTime,
      },
      (batch) => {
        this.#sendQueue.push(batch);
        this.#pump();
      },
    );
    this.#sendQueue = new SendQueue<PendingAggregate>((entries) => {
      for (const entry of entries) this.#gate.finished(entry.shard);
      this.#expire(entries, 0);
      if (config.strictOrdering) this.#gate.release();
    });
    this.#sender = new Sender(context.client, stream, {
      maxConnections: config.maxConnections,
      requestTimeout: config.requestTimeout,
      buffers,
    });
    const retrier = new Retrier({ ...config.retry, failIfThrottled: config.failIfThrottled });
    this.#settler = new Settler(
      { retrier, recordTtl: config.recordTtl, strictOrdering: config.strictOrdering },
      {
        settled: (item) => context.settled(item),
        failed: (errorCode, count, reason) => context.observer?.recordsFailed(this.#label, errorCode, count, reason === 'expired'),
        retry: (item, delayMs) => this.#retries.schedule(item, delayMs),
        retryShard: (shard, items, delayMs) => this.#gate.block(shard, items, this.#aggregator.takeItems(shard), delayMs),
        misplaced: (entry, shardId, sequenceNumber, sentAt, durationMs) =>
          this.#misplaced.add(entry, shardId, sequenceNumber, sentAt, durationMs),
      },
    );
    this.#retries = new RetryScheduler<PendingRecord>((items) => this.#readmit(items));
    this.#linger = new LingerTimer(
      () => Math.min(this.#aggregator.nextDueTime(), this.#collector.nextDueTime()),
      (now) => {
        this.#aggregator.closeDue(now);
        this.#collector.closeDue(now);
      },
    );
    this.#misplaced = new MisplacedAggregates(
      this.#settler,
      (item, out, offset) => writeHashKey(item.record, out, offset),
      (shardId, put, resent) => context.observer?.misplacedSettled(this.#label, shardId, put, resent),
    );
  }

  /** The stream's name or ARN, as metrics label it. */
  get label(): string {
    return this.#label;
  }

  /**
   * The largest record (data plus partition key) add() may take: the stream's own limit once
   * known, else 10 MiB, and a record over 1 MiB then waits for the stream's limit.
   */
  get maxRecordBytes(): number {
    return this.#limits.known ? this.#limits.current.maxRecordBytes : LARGEST_RECORD_BYTES;
  }

  /** Whose limit {@link maxRecordBytes} is, for the error of a record over it. */
  get maxRecordBytesSource(): string | undefined {
    return this.#limits.known ? this.#limits.current.description : undefined;
  }

  /** Starts loading the shard map and the stream's limits, so that the first records need not wait for them. */
  start(): void {
    this.#map.load();
    this.#loadLimits();
  }

  /** Each open shard's rate now, as the limiter allows it: the adaptive rate it is at. */
  shardRates(): ShardRateReport[] {
    const map = this.#map.map;
    if (map === undefined) return [];
    const rates: ShardRateReport[] = [];
    for (let shard = 0; shard < map.size; shard++) rates.push({ shardId: map.shardId(shard), ...this.#limiter.rate(shard) });
    return rates;
  }

  /** Takes one validated record whose hash key is at `offset` in `hashKey`. */
  add(item: PendingRecord, hashKey: Uint32Array, offset: number): void {
    // A key takes at most 3 UTF-8 bytes per code unit: this may hold back a record that fits, never let one through that does not.
    if (item.data.length + 3 * item.partitionKey.length > MAX_RECORD_BYTES && !this.#limits.known) {
      this.#waitingForLimits.push(item);
      this.#loadLimits();
      return;
    }
    const map = this.#map.map;
    if (map === undefined) {
      this.#map.wait(item);
      return;
    }
    const shard = map.lookup(hashKey, offset);
    if (shard < 0) {
      this.#map.wait(item);
      this.#map.refresh();
      return;
    }
    if (this.#gate.parks(shard, item)) return;
    this.#aggregator.add(shard, item, hashKey, offset, item.readyAt, item.arrivedAt + this.#recordTtl);
    if (!this.#linger.armed) this.#linger.arm();
  }

  /** Sends everything buffered now, without waiting for recordMaxBufferedTime; rate limits still apply. */
  flush(): void {
    this.#sendBuffered();
    this.#flushRequested = this.#waitingOutside();
  }

  /** Stops timers and connections. Records still inside fail with reason 'closed'; call it after a flush. */
  close(): void {
    this.#linger.close();
    this.#settler.close();
    this.#limits.close();
    const stranded = [...this.#retries.drain(), ...this.#takeUnsent(), ...this.#map.close(), ...this.#waitingForLimits.splice(0)];
    this.#retries.close();
    this.#gate.close();
    this.#sendQueue.close();
    this.#sender.close();
    this.#misplaced.settleAsPut();
    for (const item of stranded)
      this.#settler.fail(item, 'closed', PRODUCER_CLOSED_ERROR_CODE, 'the producer closed before the record was sent');
  }

  #waitingOutside(): boolean {
    return (
      this.#map.size > 0 ||
      this.#retries.size > 0 ||
      this.#gate.parkedShards > 0 ||
      this.#misplaced.size > 0 ||
      this.#waitingForLimits.length > 0 ||
      this.#gate.heldCount > 0
    );
  }

  #loadLimits(): void {
    void this.#limits.refresh().then(() => this.#limitsSettled());
  }

  /**
   * The stream's limits are read (or could not be): records over 1 MiB that waited for them go on,
   * or fail with a ValidationError naming the limit when they are over it. Nothing is sent for them.
   */
  #limitsSettled(): void {
    if (this.#waitingForLimits.length === 0) return;
    const waiting = this.#waitingForLimits;
    this.#waitingForLimits = [];
    const { maxRecordBytes, description } = this.#limits.current;
    const fits: PendingRecord[] = [];
    for (const item of waiting) {
      const total = item.data.length + Buffer.byteLength(item.partitionKey, 'utf8');
      if (total <= maxRecordBytes) fits.push(item);
      else {
        item.reject(recordTooLarge(total, maxRecordBytes, description));
        this.#context.settled(item);
      }
    }
    // Unknown still (the read failed): what fits 1 MiB goes on; the next large record asks again.
    this.#readmit(fits);
  }

  #sendBuffered(): void {
    this.#aggregator.closeAll();
    this.#collector.closeAll();
    this.#pump();
  }

  #mapLoaded(map: ShardMap, previous: ShardMap | undefined, waiting: PendingRecord[]): void {
    const changed = previous === undefined || !previous.sameShards(map);
    if (changed) this.#config.logger?.info('shard map loaded', { stream: this.#label, openShards: map.size });
    // Records sent again after a reshard came before anything still buffered. Shard indices of the
    // old map mean nothing in the new one: every record not yet sent is predicted again.
    const again = this.#misplaced.settle(map, true);
    if (changed && previous !== undefined) {
      again.push(...this.#takeUnsent());
      this.#limiter.reset();
    }
    again.push(...waiting);
    if (this.#misplaced.size > 0) this.#map.refresh();
    this.#readmit(again);
  }

  #mapFailed(items: readonly PendingRecord[], errorCode: string, errorMessage: string): void {
    this.#misplaced.settleAsPut();
    for (const item of items)
      this.#settler.fail(item, 'unretryable', errorCode, `cannot list the shards of ${this.#label}: ${errorMessage}`);
  }

  /** Every record that is buffered but not in flight, in arrival order per shard. */
  #takeUnsent(): PendingRecord[] {
    const items: PendingRecord[] = [];
    for (const entry of [...this.#sendQueue.takeAll(), ...this.#collector.takeAll()]) {
      items.push(...entry.items);
      this.#gate.finished(entry.shard);
    }
    items.push(...this.#gate.takeAll(), ...this.#aggregator.takeAllItems());
    return items;
  }

  /** Re-predicts and re-aggregates records coming back from a backoff or a map change. */
  #readmit(items: readonly PendingRecord[]): void {
    const now = monotonicMs();
    const hashKey = this.#hashKey;
    for (const item of items) {
      item.readyAt = now;
      writeHashKey(item.record, hashKey, 0);
      this.add(item, hashKey, 0);
    }
    if (this.#flushRequested) {
      this.#sendBuffered();
      this.#flushRequested = this.#waitingOutside();
    }
  }

  /**
   * Aggregates that left a stage unsent because their earliest deadline came (within `marginMs`):
   * the records due fail as expired, the others are aggregated again (strictOrdering: parked
   * ahead of their shard's later records, so that order holds; hence from the last aggregate back).
   */
  #expire(aggregates: readonly PendingAggregate[], marginMs: number): void {
    const cutoff = performance.now() + marginMs;
    if (!this.#config.strictOrdering) {
      this.#readmit(this.#settler.expireDue(aggregates, cutoff));
      return;
    }
    for (let i = aggregates.length - 1; i >= 0; i--) {
      const aggregate = aggregates[i] as PendingAggregate;
      const live = this.#settler.expireDue([aggregate], cutoff);
      if (live.length > 0) this.#gate.block(aggregate.shard, live, this.#aggregator.takeItems(aggregate.shard), 0);
    }
  }

  #pump(): void {
    while (this.#sender.hasCapacity) {
      const batch = this.#sendQueue.shift();
      if (batch === undefined) return;
      this.#dispatch(batch);
    }
  }

  #dispatch(batch: Batch<PendingAggregate>): void {
    const entries = batch.entries;
    const records: KinesisRecord[] = new Array<KinesisRecord>(entries.length);
    for (let i = 0; i < records.length; i++) records[i] = (entries[i] as PendingAggregate).record;
    const map = this.#map.map;
    const sentAt = performance.now();
    void this.#sender.send(records).then((outcome) => this.#onOutcome(entries, outcome, map, sentAt));
  }

  #onOutcome(entries: readonly PendingAggregate[], outcome: SendOutcome, map: ShardMap | undefined, sentAt: number): void {
    const { stale, misplaced } = this.#settler.settleRequest(entries, outcome, map, sentAt, performance.now());
    // Shard indexes are the map's of the request: after a new map they name other shards.
    if (this.#config.adaptiveRateLimit && outcome.kind === 'sent' && map !== undefined && map === this.#map.map) {
      this.#reportOutcomes(entries, outcome.records);
    }
    this.#context.observer?.requestCompleted({
      stream: this.#label,
      entries,
      outcomes: outcome.kind === 'sent' ? outcome.records : undefined,
      errorCode: outcome.kind === 'failed' ? outcome.errorCode : undefined,
      misplaced,
      sentAt,
      durationMs: outcome.durationMs,
      shardIdOf: (entry) => (map !== undefined && entry.shard < map.size ? map.shardId(entry.shard) : 'unknown'),
    });
    if (this.#config.strictOrdering) {
      for (const entry of entries) this.#gate.finished(entry.shard);
      this.#gate.release();
      // What waited only for its shard's request to finish has waited long enough: with one request
      // in flight per shard, holding it for the batch's linger as well would idle the shard each turn.
      this.#collector.closeAll();
    }
    const current = this.#map.map;
    if (misplaced !== undefined && current !== undefined) this.#readmit(this.#misplaced.settle(current, false));
    if (stale) this.#map.refresh();
    this.#pump();
  }

  /**
   * Tells the adaptive limiter what each shard stored and throttled, so that a shard's rate backs
   * off when it throttles, by as much as it throttled, and no other shard's does.
   */
  #reportOutcomes(entries: readonly PendingAggregate[], outcomes: readonly RecordOutcome[]): void {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as PendingAggregate;
      const errorCode = outcomes[i]?.errorCode;
      if (errorCode === undefined) this.#limiter.accepted(entry.shard, entry.size);
      else if (errorCode === THROTTLED_ERROR_CODE) this.#limiter.throttled(entry.shard, entry.size);
    }
  }
}

/** Writes a validated record's 128-bit hash key: its explicit hash key, or the MD5 of its partition key. */
function writeHashKey(record: UserRecord, out: Uint32Array, offset: number): void {
  if (record.explicitHashKey !== undefined) parseHashKey(record.explicitHashKey, out, offset);
  else hashPartitionKey(record.partitionKey, out, offset);
}
