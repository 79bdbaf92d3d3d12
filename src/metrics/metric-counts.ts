/**
 * The counting the pipeline calls: plain numbers at the finest level (stream and shard), kept as
 * things happen, so that the hot path pays a field increment per record and nothing more. Per add()
 * one increment, per PutRecords request one pass over its Kinesis records. prometheus-metrics.ts
 * reads these numbers only when the registry is scraped.
 */
import type { PendingRecord } from '../pending-record.js';
import type { PipelineObserver, RequestReport } from '../pipeline/observer.js';

/** Upper bounds of the histograms' buckets. */
export const BUCKETS = {
  retriesPerRecord: [0, 1, 2, 3, 5, 10, 20],
  bufferingSeconds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  requestSeconds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  userRecordsPerKinesisRecord: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
  kinesisRecordsPerRequest: [1, 2, 5, 10, 25, 50, 100, 250, 500],
  userRecordsPerRequest: [1, 10, 50, 100, 500, 1000, 5000, 10000, 50000, 100000],
} as const;

/** Bucket counts of one histogram series: plain numbers, turned cumulative only when published. */
export class BucketCounts {
  readonly bounds: readonly number[];
  /** counts[i]: observations in (bounds[i - 1], bounds[i]]; the last cell holds those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }

  addTo(total: BucketCounts): void {
    for (let i = 0; i < this.counts.length; i++) (total.counts[i] as number) += this.counts[i] as number;
    total.sum += this.sum;
    total.count += this.count;
  }
}

/** What one shard of one stream did, as far as a shard can be named. */
export class ShardTotals {
  userRecordsPut = 0;
  userRecordsDataBytes = 0;
  kinesisRecordsPut = 0;
  kinesisRecordsBytes = 0;
  readonly errorsByCode = new Map<string, number>();
  readonly retriesPerRecord = new BucketCounts(BUCKETS.retriesPerRecord);
  readonly bufferingSeconds = new BucketCounts(BUCKETS.bufferingSeconds);
  readonly userRecordsPerKinesisRecord = new BucketCounts(BUCKETS.userRecordsPerKinesisRecord);
}

/** What one stream did: the counts that have no shard, and its shards. */
export class StreamTotals {
  received = 0;
  expired = 0;
  resentAfterReshard = 0;
  readonly failedByCode = new Map<string, number>();
  readonly requestSeconds = new BucketCounts(BUCKETS.requestSeconds);
  readonly kinesisRecordsPerRequest = new BucketCounts(BUCKETS.kinesisRecordsPerRequest);
  readonly userRecordsPerRequest = new BucketCounts(BUCKETS.userRecordsPerRequest);
  readonly shards = new Map<string, ShardTotals>();

  constructor(readonly stream: string) {}

  shard(shardId: string): ShardTotals {
    let totals = this.shards.get(shardId);
    if (totals === undefined) {
      totals = new ShardTotals();
      this.shards.set(shardId, totals);
    }
    return totals;
  }
}

/**
 * What the producer's pipelines did, counted per stream and shard: user records received, put,
 * expired and failed, Kinesis records and bytes put, errors by code, and (detailed) the histograms'
 * bucket counts. No count is keyed by partition key.
 */
export class MetricCounts implements PipelineObserver {
  readonly #streams = new Map<string, StreamTotals>();
  readonly #detailed: boolean;
  /** The stream of the last add(): the producer's default stream nearly always, found without a lookup. */
  #lastStream: StreamTotals | undefined;

  /** `detailed`: keep the histograms' bucket counts too, which costs a pass over each request's user records. */
  constructor(detailed: boolean) {
    this.#detailed = detailed;
  }

  /** Every stream's totals, in first-seen order, for the registry to read at scrape time. */
  get streams(): ReadonlyMap<string, StreamTotals> {
    return this.#streams;
  }

  /** One user record accepted by add(). Hot path: one comparison and one increment. */
  recordReceived(stream: string): void {
    const last = this.#lastStream;
    if (last !== undefined && last.stream === stream) last.received++;
    else (this.#lastStream = this.#streamTotals(stream)).received++;
  }

  /** One PutRecords request finished, whole or failed: one pass over its Kinesis records. */
  requestCompleted(report: RequestReport): void {
    const stream = this.#streamTotals(report.stream);
    const detailed = this.#detailed;
    const { entries, outcomes, sentAt } = report;
    let userRecords = 0;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as RequestReport['entries'][number];
      const items = entry.items;
      userRecords += items.length;
      const outcome = outcomes?.[i];
      const errorCode = outcome === undefined ? (report.errorCode ?? 'Unknown') : outcome.errorCode;
      const shard = stream.shard(outcome !== undefined && outcome.errorCode === undefined ? outcome.shardId : report.shardIdOf(entry));
      if (detailed) observeBuffering(shard.bufferingSeconds, items, sentAt);
      if (errorCode !== undefined) {
        shard.errorsByCode.set(errorCode, (shard.errorsByCode.get(errorCode) ?? 0) + 1);
        continue;
      }
      shard.kinesisRecordsPut++;
      shard.kinesisRecordsBytes += entry.size;
      if (detailed) shard.userRecordsPerKinesisRecord.observe(items.length);
      // A misplaced aggregate's user records are counted when it is known which of them the shard holds.
      if (report.misplaced === undefined || !report.misplaced.has(entry)) countUserRecordsPut(shard, items, detailed);
    }
    if (detailed) {
      stream.requestSeconds.observe(report.durationMs / 1000);
      stream.kinesisRecordsPerRequest.observe(entries.length);
      stream.userRecordsPerRequest.observe(userRecords);
    }
  }

  /** A misplaced aggregate settled: `put` are the records its shard holds; `resent` went out again. */
  misplacedSettled(stream: string, shardId: string, put: readonly PendingRecord[], resent: number): void {
    const totals = this.#streamTotals(stream);
    countUserRecordsPut(totals.shard(shardId), put, this.#detailed);
    totals.resentAfterReshard += resent;
  }

  /** User records that failed for good: expired, unretryable, throttled with failIfThrottled, or closed. */
  recordsFailed(stream: string, errorCode: string, count: number, expired: boolean): void {
    const totals = this.#streamTotals(stream);
    totals.failedByCode.set(errorCode, (totals.failedByCode.get(errorCode) ?? 0) + count);
    if (expired) totals.expired += count;
  }

  #streamTotals(stream: string): StreamTotals {
    let totals = this.#streams.get(stream);
    if (totals === undefined) {
      totals = new StreamTotals(stream);
      this.#streams.set(stream, totals);
    }
    return totals;
  }
}

/** User records Kinesis holds where a KCL reader finds them: counts, data bytes and (detailed) their failed attempts. */
function countUserRecordsPut(shard: ShardTotals, items: readonly PendingRecord[], detailed: boolean): void {
  shard.userRecordsPut += items.length;
  let dataBytes = 0;
  for (let j = 0; j < items.length; j++) dataBytes += (items[j] as PendingRecord).data.length;
  shard.userRecordsDataBytes += dataBytes;
  if (detailed) for (let j = 0; j < items.length; j++) shard.retriesPerRecord.observe((items[j] as PendingRecord).failedAttemptCount);
}

function observeBuffering(buckets: BucketCounts, items: readonly PendingRecord[], sentAt: number): void {
  for (let i = 0; i < items.length; i++) buckets.observe((sentAt - (items[i] as PendingRecord).arrivedAt) / 1000);
}
