/**
 * The KPL's metrics in Prometheus form, kept so that the producer's hot path pays a field
 * increment per record and nothing more.
 *
 * Everything is counted in plain numbers at the finest level (stream and shard) as it happens:
 * per add() one increment, per PutRecords request one pass over its Kinesis records. prom-client
 * sees the numbers only when the registry is scraped: counters and the gauge through `collect()`
 * callbacks, histograms through {@link PublishedHistogram}, which publishes bucket counts kept
 * here. Labels are reduced to the configured granularity at that moment, so a granularity change
 * costs nothing on the hot path either.
 */
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { PendingRecord } from './pending-record.js';
import type { PipelineObserver, RequestReport } from './pipeline/observer.js';

/** How the producer's metrics are kept. */
export interface ProducerMetricsOptions {
  /** Where the metrics are registered. */
  readonly registry: Registry;
  /** 'summary': the counters and the pending gauge, labelled at most by stream. 'detailed': everything. */
  readonly level: 'summary' | 'detailed';
  /** Which labels the metrics carry: none, `stream`, or `stream` and `shard` where a metric has a shard. */
  readonly granularity: 'global' | 'stream' | 'shard';
  /** Reads the number of user records accepted and not yet settled. */
  readonly pending: () => number;
}

/** Upper bounds of the histograms' buckets. */
const BUCKETS = {
  retriesPerRecord: [0, 1, 2, 3, 5, 10, 20],
  bufferingSeconds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  requestSeconds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  userRecordsPerKinesisRecord: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
  kinesisRecordsPerRequest: [1, 2, 5, 10, 25, 50, 100, 250, 500],
  userRecordsPerRequest: [1, 10, 50, 100, 500, 1000, 5000, 10000, 50000, 100000],
} as const;

/** Bucket counts of one histogram series: plain numbers, turned cumulative only when published. */
class BucketCounts {
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
class ShardTotals {
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
class StreamTotals {
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

type Labels = Record<string, string>;
type Granularity = ProducerMetricsOptions['granularity'];

/** Values summed per label set, in first-seen order. */
class SeriesSums<V> {
  readonly #series = new Map<string, { labels: Labels; value: V }>();

  constructor(readonly create: () => V) {}

  at(labels: Labels): V {
    const key = Object.values(labels).join('\u0000');
    let entry = this.#series.get(key);
    if (entry === undefined) {
      entry = { labels, value: this.create() };
      this.#series.set(key, entry);
    }
    return entry.value;
  }

  entries(): IterableIterator<{ labels: Labels; value: V }> {
    return this.#series.values();
  }
}

/**
 * A histogram whose bucket counts are kept by {@link ProducerMetrics} and read at scrape time, so
 * that observing a value costs a few comparisons and an increment instead of prom-client's label
 * hashing per call. prom-client's Registry collects any object with this shape (name, help, type,
 * aggregator, get, reset); its TypeScript type lists only prom-client's own classes.
 */
class PublishedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => Iterable<{ labels: Labels; value: BucketCounts }>,
  ) {}

  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: Array<{ metricName: string; labels: Labels; value: number }>;
  }> {
    const values: Array<{ metricName: string; labels: Labels; value: number }> = [];
    for (const { labels, value: buckets } of this.read()) {
      let cumulative = 0;
      for (let i = 0; i < buckets.counts.length; i++) {
        cumulative += buckets.counts[i] as number;
        const le = i < buckets.bounds.length ? String(buckets.bounds[i]) : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: buckets.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: buckets.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** The counts belong to the producer, which never forgets what it did; a registry reset leaves them. */
  reset(): void {}
}

/**
 * The KPL's metrics in Prometheus naming (see the README's metrics list): counters of user and
 * Kinesis records put, bytes, errors by code, expired and failed records; the pending gauge; and
 * histograms of retries, buffering time, request time and batching. No label ever holds a
 * partition key: labels are `stream`, `shard` and `error_code`, all bounded.
 */
export class ProducerMetrics implements PipelineObserver {
  readonly #streams = new Map<string, StreamTotals>();
  readonly #detailed: boolean;
  /** The stream of the last add(): the producer's default stream nearly always, found without a lookup. */
  #lastStream: StreamTotals | undefined;

  constructor(options: ProducerMetricsOptions) {
    this.#detailed = options.level === 'detailed';
    const granularity: Granularity = this.#detailed || options.granularity !== 'shard' ? options.granularity : 'stream';
    this.#register(options.registry, granularity, options.pending);
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

  #register(registry: Registry, granularity: Granularity, pending: () => number): void {
    const streams = this.#streams;
    const streamLabels = granularity === 'global' ? [] : ['stream'];
    const shardLabels = granularity === 'shard' ? ['stream', 'shard'] : streamLabels;
    const labelsOf = (stream: string, shard?: string): Labels => {
      if (granularity === 'global') return {};
      if (granularity === 'stream' || shard === undefined) return { stream };
      return { stream, shard };
    };

    const streamCounter = (name: string, help: string, read: (totals: StreamTotals) => number): void => {
      counter(registry, name, help, streamLabels, () => {
        const sums = new SeriesSums(() => ({ total: 0 }));
        for (const totals of streams.values()) sums.at(labelsOf(totals.stream)).total += read(totals);
        return sums.entries();
      });
    };
    const shardCounter = (name: string, help: string, read: (totals: ShardTotals) => number): void => {
      counter(registry, name, help, shardLabels, () => {
        const sums = new SeriesSums(() => ({ total: 0 }));
        for (const totals of streams.values()) {
          for (const [shardId, shard] of totals.shards) sums.at(labelsOf(totals.stream, shardId)).total += read(shard);
        }
        return sums.entries();
      });
    };
    const byCode = (read: (totals: StreamTotals) => Iterable<[Labels, Map<string, number>]>) => () => {
      const sums = new SeriesSums(() => ({ total: 0 }));
      for (const totals of streams.values()) {
        for (const [labels, codes] of read(totals)) {
          for (const [errorCode, count] of codes) sums.at({ ...labels, error_code: errorCode }).total += count;
        }
      }
      return sums.entries();
    };
    const shardErrors = (totals: StreamTotals): Iterable<[Labels, Map<string, number>]> =>
      [...totals.shards].map(([shardId, shard]) => [labelsOf(totals.stream, shardId), shard.errorsByCode]);
    const countAll = (codes: Map<string, number>): number => {
      let total = 0;
      for (const count of codes.values()) total += count;
      return total;
    };

    streamCounter('kpl_user_records_received_total', 'User records accepted by add().', (t) => t.received);
    new Gauge({
      name: 'kpl_user_records_pending',
      help: 'User records accepted and not yet settled: buffered, waiting to retry, or in flight.',
      registers: [registry],
      collect() {
        this.set(pending());
      },
    });
    shardCounter('kpl_user_records_put_total', 'User records that Kinesis accepted.', (t) => t.userRecordsPut);
    shardCounter(
      'kpl_user_records_data_put_bytes_total',
      'Data bytes of the user records that Kinesis accepted.',
      (t) => t.userRecordsDataBytes,
    );
    shardCounter(
      'kpl_kinesis_records_put_total',
      'Kinesis records (aggregates or plain records) that Kinesis accepted.',
      (t) => t.kinesisRecordsPut,
    );
    shardCounter(
      'kpl_kinesis_records_data_put_bytes_total',
      'Bytes of the Kinesis records that Kinesis accepted, data plus partition key, as the shard limits count them.',
      (t) => t.kinesisRecordsBytes,
    );
    shardCounter('kpl_all_errors_total', 'Kinesis records that a PutRecords attempt did not store, whatever the error.', (t) =>
      countAll(t.errorsByCode),
    );
    counter(
      registry,
      'kpl_errors_by_code_total',
      'Kinesis records that a PutRecords attempt did not store, by error code; a failed request counts each record it carried.',
      [...shardLabels, 'error_code'],
      byCode(shardErrors),
    );
    streamCounter('kpl_user_records_expired_total', 'User records that failed because recordTtl passed.', (t) => t.expired);
    streamCounter(
      'kpl_user_records_resent_after_reshard_total',
      'User records sent again because a reshard put their aggregate on a shard whose hash key range does not hold them (a raw reader sees them twice).',
      (t) => t.resentAfterReshard,
    );
    counter(
      registry,
      'kpl_user_records_failed_total',
      'User records whose add() promise rejected after they were accepted: expired, unretryable, throttled with failIfThrottled, or closed.',
      [...streamLabels, 'error_code'],
      byCode((t) => [[labelsOf(t.stream), t.failedByCode]]),
    );

    if (!this.#detailed) return;
    const shardHistogram = (name: string, help: string, bounds: readonly number[], read: (totals: ShardTotals) => BucketCounts): void => {
      histogram(registry, name, help, () => {
        const sums = new SeriesSums(() => new BucketCounts(bounds));
        for (const totals of streams.values()) {
          for (const [shardId, shard] of totals.shards) read(shard).addTo(sums.at(labelsOf(totals.stream, shardId)));
        }
        return sums.entries();
      });
    };
    const streamHistogram = (name: string, help: string, bounds: readonly number[], read: (totals: StreamTotals) => BucketCounts): void => {
      histogram(registry, name, help, () => {
        const sums = new SeriesSums(() => new BucketCounts(bounds));
        for (const totals of streams.values()) read(totals).addTo(sums.at(labelsOf(totals.stream)));
        return sums.entries();
      });
    };
    shardHistogram(
      'kpl_retries_per_record',
      'Failed attempts before each user record was put; 0 for records put at the first try.',
      BUCKETS.retriesPerRecord,
      (t) => t.retriesPerRecord,
    );
    shardHistogram(
      'kpl_buffering_time_seconds',
      'Time from add() to the start of each PutRecords attempt carrying the record.',
      BUCKETS.bufferingSeconds,
      (t) => t.bufferingSeconds,
    );
    streamHistogram(
      'kpl_request_time_seconds',
      'Duration of PutRecords requests, failed ones included.',
      BUCKETS.requestSeconds,
      (t) => t.requestSeconds,
    );
    shardHistogram(
      'kpl_user_records_per_kinesis_record',
      'User records in each Kinesis record put.',
      BUCKETS.userRecordsPerKinesisRecord,
      (t) => t.userRecordsPerKinesisRecord,
    );
    streamHistogram(
      'kpl_kinesis_records_per_put_records_request',
      'Kinesis records in each PutRecords request.',
      BUCKETS.kinesisRecordsPerRequest,
      (t) => t.kinesisRecordsPerRequest,
    );
    streamHistogram(
      'kpl_user_records_per_put_records_request',
      'User records in each PutRecords request.',
      BUCKETS.userRecordsPerRequest,
      (t) => t.userRecordsPerRequest,
    );
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

/** A prom-client counter whose values are read from plain totals when the registry is scraped. */
function counter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Iterable<{ labels: Labels; value: { total: number } }>,
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, value } of read()) this.inc(labels, value.total);
    },
  });
}

function histogram(registry: Registry, name: string, help: string, read: () => Iterable<{ labels: Labels; value: BucketCounts }>): void {
  registry.registerMetric(new PublishedHistogram(name, help, read) as unknown as Metric);
}
