import type { Registry } from 'prom-client';
import { THROTTLED_ERROR_CODE } from '../../pipeline/retrier.js';

/** What the producer's own metrics say it did; undefined where its metricsLevel does not keep the metric. */
export interface ProducerCounts {
  readonly kinesisRecordsPut: number | undefined;
  /** Data plus partition key bytes of the Kinesis records put, as the shard limits count them. */
  readonly kinesisBytesPut: number | undefined;
  readonly requests: number | undefined;
  /** Kinesis records answered ProvisionedThroughputExceededException, per attempt. */
  readonly throttled: number | undefined;
  /** Kinesis records not stored by an attempt, whatever the error. */
  readonly errors: number | undefined;
}

/** Reads the producer's metrics registry (see src/metrics.ts), summing every label set. */
export async function readProducerCounts(registry: Registry): Promise<ProducerCounts> {
  const sums = new Map<string, number>();
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const value of metric.values as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>) {
      const name = value.metricName ?? metric.name;
      const key = name === 'kpl_errors_by_code_total' ? `${name}:${String(value.labels['error_code'])}` : name;
      sums.set(key, (sums.get(key) ?? 0) + value.value);
    }
  }
  const has = sums.has('kpl_kinesis_records_put_total');
  return {
    kinesisRecordsPut: sums.get('kpl_kinesis_records_put_total'),
    kinesisBytesPut: sums.get('kpl_kinesis_records_data_put_bytes_total'),
    requests: sums.get('kpl_request_time_seconds_count'),
    throttled: has ? (sums.get(`kpl_errors_by_code_total:${THROTTLED_ERROR_CODE}`) ?? 0) : undefined,
    errors: has ? (sums.get('kpl_all_errors_total') ?? 0) : undefined,
  };
}
