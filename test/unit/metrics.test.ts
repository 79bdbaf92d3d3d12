import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ClosedAggregate } from '../../src/pipeline/aggregator.js';
import { ProducerMetrics, type ProducerMetricsOptions } from '../../src/metrics.js';
import { outstandingBytesOf, PendingRecord } from '../../src/pending-record.js';
import type { RecordOutcome } from '../../src/pipeline/sender.js';
import type { RequestReport } from '../../src/pipeline/observer.js';

type Aggregate = ClosedAggregate<PendingRecord>;

function pending(data: string, arrivedAt: number): PendingRecord {
  const bytes = new TextEncoder().encode(data);
  const partitionKey = `secret-key-${data}`;
  return new PendingRecord({ partitionKey, data }, bytes, arrivedAt, 0, () => {}, outstandingBytesOf(partitionKey, bytes));
}

function aggregate(shard: number, items: PendingRecord[], size: number): Aggregate {
  return {
    shard,
    items,
    size,
    oldestAt: 0,
    expiresAt: 30_000,
    record: { partitionKey: 'a', explicitHashKey: undefined, data: new Uint8Array(size - 1) },
  };
}

function report(stream: string, entries: Aggregate[], outcomes: RecordOutcome[] | undefined, errorCode?: string): RequestReport {
  return {
    stream,
    entries,
    outcomes,
    errorCode,
    sentAt: 1_000,
    durationMs: 40,
    shardIdOf: (entry) => `shardId-00000000000${entry.shard}`,
  };
}

function createMetrics(options: Partial<ProducerMetricsOptions> = {}): { metrics: ProducerMetrics; registry: Registry } {
  const registry = new Registry();
  const metrics = new ProducerMetrics({ registry, level: 'detailed', granularity: 'shard', pending: () => 7, ...options });
  return { metrics, registry };
}

/** Every sample of the registry as `name{label="value",...}` -> value, labels sorted. */
async function samples(registry: Registry): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const value of metric.values as Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>) {
      const labels = Object.entries(value.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      result.set(`${value.metricName ?? metric.name}{${labels}}`, value.value);
    }
  }
  return result;
}

/** Feeds one request with a plain record and an aggregate of three to shard 0, and a throttled aggregate of two to shard 1. */
function feedOneRequest(metrics: ProducerMetrics): void {
  metrics.requestCompleted(
    report(
      's1',
      [
        aggregate(0, [pending('aaaa', 990)], 20),
        aggregate(0, [pending('bb', 900), pending('cc', 950), pending('dd', 999)], 60),
        aggregate(1, [pending('ee', 980), pending('ff', 980)], 30),
      ],
      [
        { shardId: 'shardId-000000000000', sequenceNumber: '1' },
        { shardId: 'shardId-000000000000', sequenceNumber: '2' },
        { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'slow down' },
      ],
    ),
  );
}

describe('ProducerMetrics', () => {
  it('counts records, bytes and errors per shard from one request', async () => {
    const { metrics, registry } = createMetrics();
    for (let i = 0; i < 6; i++) metrics.recordReceived('s1');
    feedOneRequest(metrics);
    const got = await samples(registry);
    const shard0 = 'shard="shardId-000000000000",stream="s1"';
    const shard1 = 'shard="shardId-000000000001",stream="s1"';
    expect(got.get('kpl_user_records_received_total{stream="s1"}')).toBe(6);
    expect(got.get('kpl_user_records_pending{}')).toBe(7);
    expect(got.get(`kpl_user_records_put_total{${shard0}}`)).toBe(4);
    expect(got.get(`kpl_user_records_data_put_bytes_total{${shard0}}`)).toBe(10);
    expect(got.get(`kpl_kinesis_records_put_total{${shard0}}`)).toBe(2);
    expect(got.get(`kpl_kinesis_records_data_put_bytes_total{${shard0}}`)).toBe(80);
    expect(got.get(`kpl_all_errors_total{${shard1}}`)).toBe(1);
    expect(got.get(`kpl_errors_by_code_total{error_code="ProvisionedThroughputExceededException",${shard1}}`)).toBe(1);
    expect(got.get(`kpl_user_records_put_total{${shard1}}`)).toBe(0);
  });

  it('keeps histograms of retries, buffering, request time and batch sizes', async () => {
    const { metrics, registry } = createMetrics();
    feedOneRequest(metrics);
    const got = await samples(registry);
    const shard0 = 'shard="shardId-000000000000",stream="s1"';
    // Every record put at its first try (the pipeline's metrics test covers retries, from real attempts).
    expect(got.get(`kpl_retries_per_record_bucket{le="0",${shard0}}`)).toBe(4);
    expect(got.get(`kpl_retries_per_record_sum{${shard0}}`)).toBe(0);
    // Buffering is observed for every attempt, the throttled aggregate's records included.
    expect(got.get(`kpl_buffering_time_seconds_count{${shard0}}`)).toBe(4);
    expect(got.get(`kpl_buffering_time_seconds_bucket{le="0.005",${shard0}}`)).toBe(1);
    expect(got.get(`kpl_buffering_time_seconds_bucket{le="0.1",${shard0}}`)).toBe(4);
    expect(got.get('kpl_buffering_time_seconds_count{shard="shardId-000000000001",stream="s1"}')).toBe(2);
    expect(got.get(`kpl_user_records_per_kinesis_record_bucket{le="1",${shard0}}`)).toBe(1);
    expect(got.get(`kpl_user_records_per_kinesis_record_bucket{le="5",${shard0}}`)).toBe(2);
    expect(got.get('kpl_request_time_seconds_sum{stream="s1"}')).toBeCloseTo(0.04);
    expect(got.get('kpl_request_time_seconds_count{stream="s1"}')).toBe(1);
    expect(got.get('kpl_kinesis_records_per_put_records_request_sum{stream="s1"}')).toBe(3);
    expect(got.get('kpl_user_records_per_put_records_request_sum{stream="s1"}')).toBe(6);
    expect(got.get('kpl_user_records_per_put_records_request_bucket{le="+Inf",stream="s1"}')).toBe(1);
  });

  it('counts the user records of a misplaced aggregate once its shard is known, and the ones sent again', async () => {
    const { metrics, registry } = createMetrics();
    const moved = aggregate(0, [pending('a', 0), pending('b', 0), pending('c', 0)], 40);
    metrics.requestCompleted({
      ...report('s1', [moved], [{ shardId: 'shardId-000000000007', sequenceNumber: '9' }]),
      misplaced: new Set([moved]),
    });
    const shard7 = 'shard="shardId-000000000007",stream="s1"';
    let got = await samples(registry);
    expect(got.get(`kpl_kinesis_records_put_total{${shard7}}`)).toBe(1);
    expect(got.get(`kpl_user_records_put_total{${shard7}}`)).toBe(0);
    metrics.misplacedSettled('s1', 'shardId-000000000007', moved.items.slice(0, 2), 1);
    got = await samples(registry);
    expect(got.get(`kpl_user_records_put_total{${shard7}}`)).toBe(2);
    expect(got.get(`kpl_user_records_data_put_bytes_total{${shard7}}`)).toBe(2);
    expect(got.get('kpl_user_records_resent_after_reshard_total{stream="s1"}')).toBe(1);
  });

  it('counts every Kinesis record of a failed request under its error code', async () => {
    const { metrics, registry } = createMetrics({ granularity: 'stream' });
    metrics.requestCompleted(
      report('s1', [aggregate(0, [pending('a', 0)], 10), aggregate(1, [pending('b', 0)], 10)], undefined, 'ServiceUnavailable'),
    );
    const got = await samples(registry);
    expect(got.get('kpl_errors_by_code_total{error_code="ServiceUnavailable",stream="s1"}')).toBe(2);
    expect(got.get('kpl_all_errors_total{stream="s1"}')).toBe(2);
    expect(got.get('kpl_request_time_seconds_count{stream="s1"}')).toBe(1);
  });

  it('counts records that failed for good, expired ones apart', async () => {
    const { metrics, registry } = createMetrics();
    metrics.recordsFailed('s1', 'ProvisionedThroughputExceededException', 3, true);
    metrics.recordsFailed('s1', 'ValidationException', 2, false);
    const got = await samples(registry);
    expect(got.get('kpl_user_records_expired_total{stream="s1"}')).toBe(3);
    expect(got.get('kpl_user_records_failed_total{error_code="ProvisionedThroughputExceededException",stream="s1"}')).toBe(3);
    expect(got.get('kpl_user_records_failed_total{error_code="ValidationException",stream="s1"}')).toBe(2);
  });

  it('sums shards and streams into the configured granularity', async () => {
    const { metrics, registry } = createMetrics({ granularity: 'global' });
    feedOneRequest(metrics);
    metrics.requestCompleted(
      report('s2', [aggregate(2, [pending('x', 999)], 10)], [{ shardId: 'shardId-000000000002', sequenceNumber: '3' }]),
    );
    metrics.recordReceived('s1');
    metrics.recordReceived('s2');
    metrics.recordReceived('s1');
    const got = await samples(registry);
    expect(got.get('kpl_user_records_received_total{}')).toBe(3);
    expect(got.get('kpl_user_records_put_total{}')).toBe(5);
    expect(got.get('kpl_kinesis_records_put_total{}')).toBe(3);
    expect(got.get('kpl_request_time_seconds_count{}')).toBe(2);
    expect(got.get('kpl_retries_per_record_count{}')).toBe(5);
  });

  it("at level 'summary' keeps only counters and the pending gauge, labelled at most by stream", async () => {
    const { metrics, registry } = createMetrics({ level: 'summary', granularity: 'shard' });
    feedOneRequest(metrics);
    const got = await samples(registry);
    expect(got.get('kpl_user_records_put_total{stream="s1"}')).toBe(4);
    expect(got.get('kpl_errors_by_code_total{error_code="ProvisionedThroughputExceededException",stream="s1"}')).toBe(1);
    const names = new Set((await registry.getMetricsAsJSON()).map((metric) => metric.name));
    expect(names).not.toContain('kpl_retries_per_record');
    expect(names).not.toContain('kpl_buffering_time_seconds');
    expect([...got.keys()].some((key) => key.includes('shard='))).toBe(false);
  });

  it('never puts a partition key in a label, and renders valid exposition text', async () => {
    const { metrics, registry } = createMetrics();
    metrics.recordReceived('s1');
    feedOneRequest(metrics);
    const text = await registry.metrics();
    expect(text).not.toContain('secret-key');
    expect(text).toContain('# TYPE kpl_retries_per_record histogram');
    expect(text).toContain('kpl_retries_per_record_bucket{stream="s1",shard="shardId-000000000000",le="+Inf"} 4');
    expect(text).toContain('# TYPE kpl_user_records_put_total counter');
  });

  it('has the metric names DESIGN.md fixes', async () => {
    const { registry } = createMetrics();
    const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name).sort();
    expect(names).toEqual([
      'kpl_all_errors_total',
      'kpl_buffering_time_seconds',
      'kpl_errors_by_code_total',
      'kpl_kinesis_records_data_put_bytes_total',
      'kpl_kinesis_records_per_put_records_request',
      'kpl_kinesis_records_put_total',
      'kpl_request_time_seconds',
      'kpl_retries_per_record',
      'kpl_user_records_data_put_bytes_total',
      'kpl_user_records_expired_total',
      'kpl_user_records_failed_total',
      'kpl_user_records_pending',
      'kpl_user_records_per_kinesis_record',
      'kpl_user_records_per_put_records_request',
      'kpl_user_records_put_total',
      'kpl_user_records_received_total',
      'kpl_user_records_resent_after_reshard_total',
    ]);
  });
});
