/**
 * The prom-client side of the metrics: every metric is registered once and reads the plain
 * {@link MetricCounts} only when the registry is scraped, counters and the gauge through `collect()`
 * callbacks, histograms through {@link PublishedHistogram}, which publishes bucket counts kept
 * there. Labels are reduced to the configured granularity at that moment, so a granularity change
 * costs nothing on the hot path either.
 */
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import { BucketCounts, BUCKETS, type MetricCounts, type ShardTotals, type StreamTotals } from './metric-counts.js';

type Labels = Record<string, string>;
/** Which labels the metrics carry: none, `stream`, or `stream` and `shard` where a metric has a shard. */
export type Granularity = 'global' | 'stream' | 'shard';

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
 * A histogram whose bucket counts are kept by {@link MetricCounts} and read at scrape time, so
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
 * Registers the KPL's metrics in `registry`, summed from `counts` on each scrape: the counters and
 * the pending gauge, and with `detailed` the histograms. `pending` reads the user records accepted
 * and not yet settled.
 */
export function registerPrometheusMetrics(
  registry: Registry,
  counts: MetricCounts,
  options: { readonly granularity: Granularity; readonly detailed: boolean; readonly pending: () => number },
): void {
  const { granularity, detailed, pending } = options;
  const streams = counts.streams;
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

  if (!detailed) return;
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
