/**
 * The KPL's metrics in Prometheus form, kept so that the producer's hot path pays a field
 * increment per record and nothing more: metrics/metric-counts.ts counts what the pipeline reports,
 * metrics/prometheus-metrics.ts registers the metrics that read those counts when scraped.
 */
import type { Registry } from 'prom-client';
import { MetricCounts } from './metrics/metric-counts.js';
import { registerPrometheusMetrics } from './metrics/prometheus-metrics.js';

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

/**
 * The KPL's metrics in Prometheus naming (see the README's metrics list): counters of user and
 * Kinesis records put, bytes, errors by code, expired and failed records; the pending gauge; and
 * histograms of retries, buffering time, request time and batching. No label ever holds a
 * partition key: labels are `stream`, `shard` and `error_code`, all bounded.
 */
export class ProducerMetrics extends MetricCounts {
  constructor(options: ProducerMetricsOptions) {
    const detailed = options.level === 'detailed';
    super(detailed);
    // 'summary' has no shard label: its counters are labelled at most by stream.
    const granularity = detailed || options.granularity !== 'shard' ? options.granularity : 'stream';
    registerPrometheusMetrics(options.registry, this, { granularity, detailed, pending: options.pending });
  }
}
