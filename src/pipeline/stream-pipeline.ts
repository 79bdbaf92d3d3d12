import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ResolvedConfig } from '../config.js';
import { writeRecordHashKey } from '../format/hash-key.js';
import { MAX_RECORD_BYTES } from '../format/limits.js';
import { monotonicMs, type PendingAggregate, type PendingRecord } from '../pending-record.js';
import { AggregateExpiry } from './aggregate-expiry.js';
import { Aggregator } from './aggregator.js';
import { BufferPool } from './buffer-pool.js';
import { Collector } from './collector.js';
import { PRODUCER_CLOSED_ERROR_CODE, type StreamRef } from './kinesis-client.js';
import { ShardRateLimiter, type ShardRate } from './limiter.js';
import { LingerTimer } from './linger-timer.js';
import { MisplacedAggregates } from './misplaced.js';
import type { PipelineObserver } from './observer.js';
import { RecordSizeWait } from './record-size-wait.js';
import { RequestCompletion } from './request-completion.js';
import { RequestDispatch } from './request-dispatch.js';
import { Retrier, RetryScheduler } from './retrier.js';
import { SendQueue } from './send-queue.js';
import { Sender } from './sender.js';
import { Settler } from './settle.js';
import { ShardGate } from './shard-gate.js';
import { ShardMapChange } from './shard-map-change.js';
import { ShardMapWait } from './shard-map-wait.js';
import * as stageOptions from './stage-options.js';
import { StreamLimitsTracker } from './stream-limits.js';

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
  readonly #label: string;
  readonly #recordTtl: number;
  readonly #map: ShardMapWait<PendingRecord>;
  readonly #aggregator: Aggregator<PendingRecord>;
  readonly #limiter: ShardRateLimiter;
  readonly #limits: StreamLimitsTracker;
  readonly #sizeWait: RecordSizeWait;
  readonly #gate: ShardGate<PendingRecord, PendingAggregate>;
  readonly #collector: Collector<PendingAggregate>;
  readonly #sendQueue: SendQueue<PendingAggregate>;
  readonly #sender: Sender;
  readonly #dispatch: RequestDispatch;
  readonly #settler: Settler;
  readonly #retries: RetryScheduler<PendingRecord>;
  readonly #hashKey = new Uint32Array(4);
  readonly #misplaced: MisplacedAggregates;
  readonly #linger: LingerTimer;
  /** A flush() came while records waited outside the aggregator (for the map, in backoff, behind a shard's rate): send them at once when they return. */
  #flushRequested = false;

  constructor(context: StreamPipelineContext, stream: StreamRef) {
    const config = context.config;
    const label = stream.streamName ?? stream.streamARN ?? '';
    this.#label = label;
    this.#recordTtl = config.recordTtl;
    const deadlineOf = (item: PendingRecord): number => item.arrivedAt + config.recordTtl;
    const mapChange = new ShardMapChange(label, config.logger, {
      resendMisplaced: (map) => this.#misplaced.settle(map, true),
      misplacedLeft: () => this.#misplaced.size > 0,
      settleMisplacedAsPut: () => this.#misplaced.settleAsPut(),
      takeUnsent: () => this.#takeUnsent(),
      resetRates: () => this.#limiter.reset(),
      refreshMap: () => this.#map.refresh(),
      readmit: (items) => this.#readmit(items),
      fail: (item, reason, errorCode, errorMessage) => this.#settler.fail(item, reason, errorCode, errorMessage),
    });
    this.#map = new ShardMapWait<PendingRecord>(context.client, stream, { retry: config.retry, deadlineOf }, mapChange);
    const buffers = new BufferPool(stageOptions.bufferPoolOptions(config));
    this.#aggregator = new Aggregator<PendingRecord>(
      stageOptions.aggregatorOptions(config, buffers, (item, out, offset) => writeRecordHashKey(item.record, out, offset)),
      (aggregate) => this.#gate.admit(aggregate),
    );
    this.#limiter = new ShardRateLimiter(stageOptions.limiterOptions(config));
    this.#limits = new StreamLimitsTracker(context.client, stream, { maxRecordSize: config.maxRecordSize, logger: config.logger });
    this.#sizeWait = new RecordSizeWait(this.#limits, {
      fits: (items) => this.#readmit(items),
      tooLarge: (item, error) => {
        item.reject(error);
        context.settled(item);
      },
    });
    const expiry = new AggregateExpiry(config.strictOrdering, {
      expireDue: (aggregates, cutoff) => this.#settler.expireDue(aggregates, cutoff),
      readmit: (items) => this.#readmit(items),
      block: (shard, live) => this.#gate.block(shard, live, this.#aggregator.takeItems(shard), 0),
    });
    const marginMs = stageOptions.expiryMarginMs(config);
    this.#gate = new ShardGate<PendingRecord, PendingAggregate>(
      this.#limiter,
      { strictOrdering: config.strictOrdering, expiryMarginMs: marginMs, deadlineOf },
      {
        pass: (aggregate) => this.#collector.add(aggregate),
        expired: (aggregates) => expiry.expire(aggregates, marginMs),
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
    this.#collector = new Collector<PendingAggregate>(stageOptions.collectorOptions(config), (batch) => {
      this.#sendQueue.push(batch);
      this.#dispatch.pump();
    });
    this.#sendQueue = new SendQueue<PendingAggregate>((entries) => {
      for (const entry of entries) this.#gate.finished(entry.shard);
      expiry.expire(entries, 0);
      if (config.strictOrdering) this.#gate.release();
    });
    this.#sender = new Sender(context.client, stream, stageOptions.senderOptions(config, buffers));
    const completion = new RequestCompletion(
      { label, strictOrdering: config.strictOrdering, adaptiveRateLimit: config.adaptiveRateLimit },
      this.#limiter,
      context.observer,
      {
        settle: (entries, outcome, map, sentAt) => this.#settler.settleRequest(entries, outcome, map, sentAt, performance.now()),
        currentMap: () => this.#map.map,
        shardsFinished: (entries) => {
          for (const entry of entries) this.#gate.finished(entry.shard);
          this.#gate.release();
          // What waited only for its shard's request to finish has waited long enough: with one request
          // in flight per shard, holding it for the batch's linger as well would idle the shard each turn.
          this.#collector.closeAll();
        },
        resendMisplaced: (map) => this.#misplaced.settle(map, false),
        readmit: (items) => this.#readmit(items),
        refreshMap: () => this.#map.refresh(),
        next: () => this.#dispatch.pump(),
      },
    );
    this.#dispatch = new RequestDispatch(
      this.#sender,
      this.#sendQueue,
      () => this.#map.map,
      (entries, outcome, map, sentAt) => completion.completed(entries, outcome, map, sentAt),
    );
    this.#settler = new Settler(
      { retrier: new Retrier(stageOptions.retrierOptions(config)), recordTtl: config.recordTtl, strictOrdering: config.strictOrdering },
      {
        settled: (item) => context.settled(item),
        failed: (errorCode, count, reason) => context.observer?.recordsFailed(label, errorCode, count, reason === 'expired'),
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
      (item, out, offset) => writeRecordHashKey(item.record, out, offset),
      (shardId, put, resent) => context.observer?.misplacedSettled(label, shardId, put, resent),
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
    return this.#sizeWait.maxRecordBytes;
  }

  /** Whose limit {@link maxRecordBytes} is, for the error of a record over it. */
  get maxRecordBytesSource(): string | undefined {
    return this.#sizeWait.maxRecordBytesSource;
  }

  /** Starts loading the shard map and the stream's limits, so that the first records need not wait for them. */
  start(): void {
    this.#map.load();
    this.#sizeWait.load();
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
    // mayExceedDefaultLimit(), written out: the common record then costs no call.
    if (item.data.length + 3 * item.partitionKey.length > MAX_RECORD_BYTES && this.#sizeWait.holds(item)) return;
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
    const stranded = [...this.#retries.drain(), ...this.#takeUnsent(), ...this.#map.close(), ...this.#sizeWait.close()];
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
      this.#sizeWait.size > 0 ||
      this.#gate.heldCount > 0
    );
  }

  #sendBuffered(): void {
    this.#aggregator.closeAll();
    this.#collector.closeAll();
    this.#dispatch.pump();
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
      writeRecordHashKey(item.record, hashKey, 0);
      this.add(item, hashKey, 0);
    }
    if (this.#flushRequested) {
      this.#sendBuffered();
      this.#flushRequested = this.#waitingOutside();
    }
  }
}
