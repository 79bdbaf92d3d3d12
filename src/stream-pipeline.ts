import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ResolvedConfig } from './config.js';
import type { KinesisRecord } from './format/aggregated-record.js';
import { hashPartitionKey, parseHashKey } from './format/hash-key.js';
import { SHARD_MAX_BYTES_PER_SECOND, SHARD_MAX_RECORDS_PER_SECOND } from './format/limits.js';
import { monotonicMs, type PendingRecord } from './pending-record.js';
import { Aggregator, type ClosedAggregate } from './pipeline/aggregator.js';
import { BufferPool } from './pipeline/buffer-pool.js';
import { type Batch, Collector } from './pipeline/collector.js';
import { describeKinesisError, type StreamRef } from './pipeline/kinesis-client.js';
import { ShardRateLimiter } from './pipeline/limiter.js';
import { backoffRetries, Retrier, RetryScheduler } from './pipeline/retrier.js';
import { type RecordOutcome, Sender, type SendOutcome } from './pipeline/sender.js';
import { type ShardMap, ShardMapTracker } from './pipeline/shard-map.js';
import { type Attempt, type UserRecord, UserRecordFailedError } from './records.js';

type Aggregate = ClosedAggregate<PendingRecord>;

/**
 * Free aggregate and request-body buffers a stream keeps at most: a few 5 MiB bodies and a
 * request's worth of 51,200-byte aggregates, which is what one request's turnover needs. Never more
 * than maxOutstandingBytes, so that a producer configured to hold little holds little when idle.
 */
const MAX_FREE_BUFFER_BYTES = 32 * 1024 * 1024;

/** strictOrdering: the records of one shard that failed in a request, and how long they must wait. */
interface RetryGroup {
  readonly items: PendingRecord[];
  delayMs: number;
}

/** What one finished PutRecords request did, for metrics. */
export interface RequestReport {
  readonly stream: string;
  readonly entries: readonly Aggregate[];
  /** Per entry: the shard that took it or the error it got; undefined when the whole request failed. */
  readonly outcomes: readonly RecordOutcome[] | undefined;
  /** The whole request's error code, when it failed as a whole. */
  readonly errorCode: string | undefined;
  readonly sentAt: number;
  readonly durationMs: number;
  /** The predicted shard's id of an entry, for labels. */
  shardIdOf(entry: Aggregate): string;
}

/** Watches a pipeline's outcomes (metrics); called per request or per failed record group, never per add. */
export interface PipelineObserver {
  requestCompleted(report: RequestReport): void;
  /** User records that failed for good: expired, unretryable, or throttled with failIfThrottled. */
  recordsFailed(stream: string, errorCode: string, count: number, expired: boolean): void;
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
 * The pipeline of one stream: shard map -> aggregator -> limiter -> collector -> sender, with the
 * retrier sending failed records back to the aggregator. This class only moves records between the
 * stages and the timers that drive them; each stage decides alone.
 */
export class StreamPipeline {
  readonly #context: StreamPipelineContext;
  readonly #config: ResolvedConfig;
  readonly #label: string;
  readonly #tracker: ShardMapTracker;
  #map: ShardMap | undefined;
  #mapLoading = false;
  #waitingForMap: PendingRecord[] = [];
  readonly #aggregator: Aggregator<PendingRecord>;
  readonly #limiter: ShardRateLimiter;
  /** Closed aggregates a shard may not send yet: over its rate, or (strictOrdering) behind its request in flight. */
  readonly #held = new Map<number, Aggregate[]>();
  /** strictOrdering: shards with an aggregate between the collector and its outcome. */
  readonly #busy = new Set<number>();
  /** strictOrdering: shards waiting out a retry's backoff, with the records that must go first, in order. */
  readonly #blocked = new Map<number, PendingRecord[]>();
  readonly #collector: Collector<Aggregate>;
  readonly #sendQueue: Batch<Aggregate>[] = [];
  readonly #sender: Sender;
  readonly #retrier: Retrier;
  readonly #retries: RetryScheduler<PendingRecord>;
  readonly #unblocks: RetryScheduler<number>;
  readonly #hashKey = new Uint32Array(4);
  #flushTimer: NodeJS.Timeout | undefined;
  #flushTimerAt = Infinity;
  #limiterTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #lastRefreshAt = -Infinity;
  /** A flush() came while records waited outside the aggregator (for the map, or in backoff): send them at once when they return. */
  #flushRequested = false;
  #closed = false;

  constructor(context: StreamPipelineContext, stream: StreamRef) {
    const config = context.config;
    this.#context = context;
    this.#config = config;
    this.#label = stream.streamName ?? stream.streamARN ?? '';
    this.#tracker = new ShardMapTracker(context.client, stream, config.retry);
    const buffers = new BufferPool({ maxFreeBytes: Math.min(MAX_FREE_BUFFER_BYTES, config.maxOutstandingBytes) });
    this.#aggregator = new Aggregator<PendingRecord>({
      maxCount: config.aggregationMaxCount,
      maxSize: config.aggregationMaxSize,
      lingerMs: config.recordMaxBufferedTime,
      compression: config.compression,
      allocate: (size) => buffers.acquire(size),
      hashKeyOf: (item, out, offset) => writeHashKey(item.record, out, offset),
    }, (aggregate) => this.#admit(aggregate));
    this.#limiter = new ShardRateLimiter({
      recordsPerSecond: SHARD_MAX_RECORDS_PER_SECOND * config.rateLimit / 100,
      bytesPerSecond: SHARD_MAX_BYTES_PER_SECOND * config.rateLimit / 100,
    });
    this.#collector = new Collector<Aggregate>({
      maxCount: config.collectionMaxCount,
      maxSize: config.collectionMaxSize,
      lingerMs: config.recordMaxBufferedTime,
    }, (batch) => this.#enqueue(batch));
    this.#sender = new Sender(context.client, stream, {
      maxConnections: config.maxConnections,
      requestTimeout: config.requestTimeout,
      buffers,
    });
    this.#retrier = new Retrier({ ...config.retry, failIfThrottled: config.failIfThrottled });
    this.#retries = new RetryScheduler<PendingRecord>((items) => this.#readmit(items));
    this.#unblocks = new RetryScheduler<number>((shards) => { for (const shard of shards) this.#unblock(shard); });
  }

  /** The stream's name or ARN, as metrics label it. */
  get label(): string {
    return this.#label;
  }

  /** Starts loading the shard map, so that the first records need not wait for it. */
  start(): void {
    this.#loadMap();
  }

  /** Takes one validated record whose hash key is at `offset` in `hashKey`. */
  add(item: PendingRecord, hashKey: Uint32Array, offset: number): void {
    const map = this.#map;
    if (map === undefined) {
      this.#waitForMap(item);
      return;
    }
    const shard = map.lookup(hashKey, offset);
    if (shard < 0) {
      this.#waitForMap(item);
      this.#refreshMap();
      return;
    }
    if (this.#blocked.size > 0) {
      const parked = this.#blocked.get(shard);
      if (parked !== undefined) {
        parked.push(item);
        return;
      }
    }
    this.#aggregator.add(shard, item, hashKey, offset, item.readyAt);
    if (this.#flushTimer === undefined) this.#armFlushTimer();
  }

  /** Sends everything buffered now, without waiting for recordMaxBufferedTime; rate limits still apply. */
  flush(): void {
    this.#flushRequested = this.#waitingForMap.length > 0 || this.#retries.size > 0 || this.#blocked.size > 0;
    this.#sendBuffered();
  }

  #sendBuffered(): void {
    this.#aggregator.closeAll();
    this.#collector.closeAll();
    this.#pump();
  }

  /** Stops timers and connections. Records still inside fail with the given error; call it after a flush. */
  close(): void {
    this.#closed = true;
    for (const timer of [this.#flushTimer, this.#limiterTimer, this.#expiryTimer]) if (timer !== undefined) clearTimeout(timer);
    this.#flushTimer = this.#limiterTimer = this.#expiryTimer = undefined;
    const stranded = [...this.#retries.drain(), ...this.#takeUnsent()];
    this.#retries.close();
    this.#unblocks.close();
    this.#tracker.close();
    this.#sender.close();
    for (const item of stranded) this.#fail(item, 'ProducerClosed', 'the producer closed before the record was sent', false);
  }

  #waitForMap(item: PendingRecord): void {
    this.#waitingForMap.push(item);
    this.#loadMap();
    if (this.#expiryTimer === undefined) {
      this.#expiryTimer = setTimeout(() => this.#expireWaiting(), Math.min(1000, this.#config.recordTtl));
    }
  }

  #expireWaiting(): void {
    this.#expiryTimer = undefined;
    const now = performance.now();
    const keep: PendingRecord[] = [];
    for (const item of this.#waitingForMap) {
      if (item.arrivedAt + this.#config.recordTtl <= now) this.#fail(item, 'Expired', 'the shard map could not be loaded before recordTtl passed', true);
      else keep.push(item);
    }
    this.#waitingForMap = keep;
    if (keep.length > 0 && !this.#closed) this.#expiryTimer = setTimeout(() => this.#expireWaiting(), Math.min(1000, this.#config.recordTtl));
  }

  #refreshMap(): void {
    const now = performance.now();
    if (now - this.#lastRefreshAt < this.#config.retry.minDelayMs) return;
    this.#lastRefreshAt = now;
    this.#loadMap();
  }

  #loadMap(): void {
    if (this.#mapLoading || this.#closed) return;
    this.#mapLoading = true;
    this.#tracker.refresh().then(
      (map) => {
        this.#mapLoading = false;
        if (!this.#closed) this.#useMap(map);
      },
      (error: unknown) => {
        this.#mapLoading = false;
        if (this.#closed) return;
        const { errorCode, errorMessage } = describeKinesisError(error);
        const waiting = this.#waitingForMap;
        this.#waitingForMap = [];
        for (const item of waiting) this.#fail(item, errorCode, `cannot list the shards of ${this.#label}: ${errorMessage}`, false);
      },
    );
  }

  #useMap(map: ShardMap): void {
    const previous = this.#map;
    this.#map = map;
    const again = this.#waitingForMap;
    this.#waitingForMap = [];
    if (previous === undefined || !sameShards(previous, map)) {
      this.#config.logger?.info('shard map loaded', { stream: this.#label, openShards: map.size });
    }
    if (previous !== undefined && !sameShards(previous, map)) {
      // Shard indices of the old map mean nothing in the new one: every record not yet sent is predicted again.
      this.#limiter.reset();
      again.unshift(...this.#takeUnsent());
    }
    this.#readmit(again);
  }

  /** Every record that is buffered but not in flight, in arrival order per shard. */
  #takeUnsent(): PendingRecord[] {
    const items: PendingRecord[] = [];
    const collect = (aggregates: Iterable<Aggregate>): void => {
      for (const aggregate of aggregates) for (const item of aggregate.items) items.push(item);
    };
    for (const batch of this.#sendQueue.splice(0)) {
      collect(batch.entries);
      for (const entry of batch.entries) this.#busy.delete(entry.shard);
    }
    for (const entry of this.#collector.takeAll()) this.#busy.delete(entry.shard);
    for (const queue of this.#held.values()) collect(queue);
    this.#held.clear();
    items.push(...this.#aggregator.takeAllItems());
    for (const [shard, parked] of this.#blocked) {
      items.push(...parked);
      this.#blocked.delete(shard);
    }
    this.#unblocks.drain();
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
      this.#flushRequested = this.#waitingForMap.length > 0 || this.#retries.size > 0 || this.#blocked.size > 0;
      this.#sendBuffered();
    }
  }

  /** Aggregator output: passes to the collector if the shard's rate (and order) allows, else holds it. */
  #admit(aggregate: Aggregate): void {
    const shard = aggregate.shard;
    const held = this.#held.get(shard);
    if (held !== undefined) {
      this.#hold(held, aggregate);
      return;
    }
    if (this.#config.strictOrdering && this.#busy.has(shard)) {
      this.#held.set(shard, [aggregate]);
      return;
    }
    if (!this.#limiter.tryTake(shard, 1, aggregate.size)) {
      this.#held.set(shard, [aggregate]);
      this.#armLimiterTimer();
      return;
    }
    if (this.#config.strictOrdering) this.#busy.add(shard);
    this.#collector.add(aggregate);
  }

  /**
   * Queues an aggregate behind its shard's rate, earliest deadline first, as the KPL's limiter does:
   * records back from a retry would otherwise wait behind a backlog younger than them, again at every
   * throttle, and expire under sustained load. strictOrdering keeps arrival order.
   */
  #hold(queue: Aggregate[], aggregate: Aggregate): void {
    const last = queue[queue.length - 1];
    if (this.#config.strictOrdering || last === undefined) {
      queue.push(aggregate);
      return;
    }
    // Every record expires recordTtl after it arrived, so the earliest arrival is the earliest deadline.
    const arrival = earliestArrival(aggregate);
    if (earliestArrival(last) <= arrival) {
      queue.push(aggregate);
      return;
    }
    // The queue is in deadline order: find the first aggregate due after this one.
    let low = 0;
    let high = queue.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (earliestArrival(queue[middle] as Aggregate) > arrival) high = middle;
      else low = middle + 1;
    }
    queue.splice(low, 0, aggregate);
  }

  #releaseHeld(): void {
    this.#limiterTimer = undefined;
    let waiting = false;
    for (const [shard, queue] of this.#held) {
      while (queue.length > 0) {
        if (this.#config.strictOrdering && this.#busy.has(shard)) break;
        const next = queue[0] as Aggregate;
        if (!this.#limiter.tryTake(shard, 1, next.size)) {
          waiting = true;
          break;
        }
        queue.shift();
        if (this.#config.strictOrdering) this.#busy.add(shard);
        this.#collector.add(next);
      }
      if (queue.length === 0) this.#held.delete(shard);
    }
    if (waiting) this.#armLimiterTimer();
    if (this.#collector.count > 0 && this.#flushTimer === undefined) this.#armFlushTimer();
  }

  #armLimiterTimer(): void {
    if (this.#limiterTimer !== undefined || this.#closed) return;
    let wait = Infinity;
    for (const [shard, queue] of this.#held) {
      const next = queue[0];
      if (next !== undefined && !(this.#config.strictOrdering && this.#busy.has(shard))) {
        wait = Math.min(wait, this.#limiter.waitTime(shard, 1, next.size));
      }
    }
    if (wait !== Infinity) this.#limiterTimer = setTimeout(() => this.#releaseHeld(), Math.max(1, Math.ceil(wait)));
  }

  #armFlushTimer(): void {
    if (this.#closed) return;
    const due = Math.min(this.#aggregator.nextDueTime(), this.#collector.nextDueTime());
    if (due === Infinity) return;
    if (this.#flushTimer !== undefined) {
      if (due >= this.#flushTimerAt) return;
      clearTimeout(this.#flushTimer);
    }
    this.#flushTimerAt = due;
    this.#flushTimer = setTimeout(() => this.#onFlushTimer(), Math.max(0, Math.ceil(due - performance.now())));
  }

  #onFlushTimer(): void {
    this.#flushTimer = undefined;
    this.#flushTimerAt = Infinity;
    const now = performance.now();
    this.#aggregator.closeDue(now);
    this.#collector.closeDue(now);
    this.#armFlushTimer();
  }

  #enqueue(batch: Batch<Aggregate>): void {
    this.#sendQueue.push(batch);
    this.#pump();
  }

  #pump(): void {
    while (this.#sendQueue.length > 0 && this.#sender.hasCapacity) this.#dispatch(this.#sendQueue.shift() as Batch<Aggregate>);
  }

  #dispatch(batch: Batch<Aggregate>): void {
    const records: KinesisRecord[] = new Array<KinesisRecord>(batch.entries.length);
    for (let i = 0; i < records.length; i++) records[i] = (batch.entries[i] as Aggregate).record;
    const map = this.#map;
    const sentAt = performance.now();
    void this.#sender.send(records).then((outcome) => this.#onOutcome(batch, outcome, map, sentAt));
  }

  #onOutcome(batch: Batch<Aggregate>, outcome: SendOutcome, map: ShardMap | undefined, sentAt: number): void {
    let stale = false;
    const now = performance.now();
    const failedShards = this.#config.strictOrdering ? new Map<number, RetryGroup>() : undefined;
    if (outcome.kind === 'failed') {
      stale = this.#retrier.isStaleMapSignal(outcome.errorCode, outcome.errorMessage);
      for (const entry of batch.entries) this.#retry(entry, outcome.errorCode, outcome.errorMessage, sentAt, outcome.durationMs, now, failedShards);
    } else {
      for (let i = 0; i < batch.entries.length; i++) {
        const entry = batch.entries[i] as Aggregate;
        const result = outcome.records[i] as RecordOutcome;
        if (result.errorCode === undefined) {
          this.#succeed(entry, result.shardId, result.sequenceNumber, sentAt, outcome.durationMs);
          if (map !== undefined && map.shardId(entry.shard) !== result.shardId) stale = true;
        } else {
          if (this.#retrier.isStaleMapSignal(result.errorCode, result.errorMessage)) stale = true;
          this.#retry(entry, result.errorCode, result.errorMessage, sentAt, outcome.durationMs, now, failedShards);
        }
      }
    }
    this.#context.observer?.requestCompleted({
      stream: this.#label,
      entries: batch.entries,
      outcomes: outcome.kind === 'sent' ? outcome.records : undefined,
      errorCode: outcome.kind === 'failed' ? outcome.errorCode : undefined,
      sentAt,
      durationMs: outcome.durationMs,
      shardIdOf: (entry) => (map !== undefined && entry.shard < map.size ? map.shardId(entry.shard) : 'unknown'),
    });
    if (failedShards !== undefined) this.#settleStrict(batch, failedShards);
    if (stale) this.#refreshMap();
    this.#pump();
  }

  #succeed(entry: Aggregate, shardId: string, sequenceNumber: string, sentAt: number, durationMs: number): void {
    const items = entry.items;
    const aggregated = items.length > 1;
    // Whole milliseconds, so that records that became ready in the same millisecond had the same
    // single attempt: they share one attempt list instead of two objects each, the ones the hot
    // path would otherwise allocate most. A list is frozen once it is shared, and only then, since
    // freezing costs more than the allocation it saves for a list that one record gets.
    const sentAtMs = Math.round(sentAt);
    const wholeDurationMs = Math.round(durationMs);
    let sharedReadyAt = -1;
    let sharedAttempts: Attempt[] = [];
    let shared = false;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as PendingRecord;
      const failed = item.failedAttempts;
      let attempts: Attempt[];
      if (failed !== undefined) {
        failed.push({ delayMs: Math.max(0, sentAtMs - item.readyAt), durationMs: wholeDurationMs, success: true });
        attempts = failed;
      } else if (item.readyAt === sharedReadyAt) {
        if (!shared) {
          Object.freeze(sharedAttempts[0]);
          Object.freeze(sharedAttempts);
          shared = true;
        }
        attempts = sharedAttempts;
      } else {
        sharedReadyAt = item.readyAt;
        sharedAttempts = [{ delayMs: Math.max(0, sentAtMs - item.readyAt), durationMs: wholeDurationMs, success: true }];
        shared = false;
        attempts = sharedAttempts;
      }
      item.resolve({ successful: true, shardId, sequenceNumber, subSequenceNumber: aggregated ? i : 0, attempts });
      this.#context.settled(item);
    }
  }

  #retry(entry: Aggregate, errorCode: string, errorMessage: string, sentAt: number, durationMs: number, now: number,
    failedShards: Map<number, RetryGroup> | undefined): void {
    let failedCount = 0;
    let expiredCount = 0;
    for (const item of entry.items) {
      const attempts = item.failedAttempts ?? (item.failedAttempts = []);
      attempts.push({ delayMs: Math.max(0, sentAt - item.readyAt), durationMs, success: false, errorCode, errorMessage });
      const decision = this.#closed ? { action: 'fail' as const, reason: 'unretryable' as const } : this.#retrier.decide(errorCode, backoffRetries(attempts), item.arrivedAt + this.#config.recordTtl, now);
      if (decision.action === 'retry') {
        if (failedShards !== undefined) {
          const group = failedShards.get(entry.shard);
          if (group === undefined) failedShards.set(entry.shard, { items: [item], delayMs: decision.delayMs });
          else {
            group.items.push(item);
            group.delayMs = Math.max(group.delayMs, decision.delayMs);
          }
        } else {
          this.#retries.schedule(item, decision.delayMs);
        }
      } else {
        this.#rejectItem(item, errorCode, decision.reason === 'expired');
        if (decision.reason === 'expired') expiredCount++;
        else failedCount++;
      }
    }
    if (expiredCount > 0) this.#context.observer?.recordsFailed(this.#label, errorCode, expiredCount, true);
    if (failedCount > 0) this.#context.observer?.recordsFailed(this.#label, errorCode, failedCount, false);
  }

  /** strictOrdering: frees the shards of a finished request; a shard with failed records stays blocked behind them. */
  #settleStrict(batch: Batch<Aggregate>, failedShards: Map<number, RetryGroup>): void {
    for (const entry of batch.entries) this.#busy.delete(entry.shard);
    for (const [shard, { items: failed, delayMs }] of failedShards) {
      // Everything of this shard that came later must wait behind the records being retried.
      const later: PendingRecord[] = [];
      for (const aggregate of this.#held.get(shard) ?? []) later.push(...aggregate.items);
      this.#held.delete(shard);
      later.push(...this.#aggregator.takeItems(shard));
      const parked = this.#blocked.get(shard);
      if (parked === undefined) this.#blocked.set(shard, [...failed, ...later]);
      else parked.unshift(...failed, ...later);
      this.#unblocks.schedule(shard, delayMs);
    }
    this.#releaseHeld();
    // What waited only for its shard's request to finish has waited long enough: with one request
    // in flight per shard, holding it for the batch's linger as well would idle the shard each turn.
    this.#collector.closeAll();
  }

  #unblock(shard: number): void {
    const parked = this.#blocked.get(shard);
    if (parked === undefined) return;
    this.#blocked.delete(shard);
    this.#readmit(parked);
  }

  #rejectItem(item: PendingRecord, errorCode: string, expired: boolean): void {
    const attempts = item.failedAttempts ?? [];
    const reason = expired
      ? `record expired: recordTtl of ${this.#config.recordTtl} ms passed after ${attempts.length} attempt(s); last error ${errorCode}`
      : undefined;
    item.reject(new UserRecordFailedError(item.record, attempts, reason));
    this.#context.settled(item);
  }

  #fail(item: PendingRecord, errorCode: string, errorMessage: string, expired: boolean): void {
    const attempts = item.failedAttempts ?? (item.failedAttempts = []);
    attempts.push({ delayMs: 0, durationMs: 0, success: false, errorCode, errorMessage });
    item.reject(new UserRecordFailedError(item.record, attempts, `record failed: ${errorCode}: ${errorMessage}`));
    this.#context.settled(item);
    this.#context.observer?.recordsFailed(this.#label, errorCode, 1, expired);
  }
}

/** Writes a validated record's 128-bit hash key: its explicit hash key, or the MD5 of its partition key. */
function writeHashKey(record: UserRecord, out: Uint32Array, offset: number): void {
  if (record.explicitHashKey !== undefined) parseHashKey(record.explicitHashKey, out, offset);
  else hashPartitionKey(record.partitionKey, out, offset);
}

function earliestArrival(aggregate: Aggregate): number {
  let earliest = Infinity;
  for (const item of aggregate.items) if (item.arrivedAt < earliest) earliest = item.arrivedAt;
  return earliest;
}

function sameShards(a: ShardMap, b: ShardMap): boolean {
  if (a.size !== b.size) return false;
  for (let i = 0; i < a.size; i++) if (a.shardId(i) !== b.shardId(i)) return false;
  return true;
}
