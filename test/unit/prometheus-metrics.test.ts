import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricCounts } from '../../src/metrics/metric-counts.js';
import { type Granularity, registerPrometheusMetrics } from '../../src/metrics/prometheus-metrics.js';

function countsOf(): MetricCounts {
  const counts = new MetricCounts(true);
  for (const stream of ['a', 'a', 'b']) counts.recordReceived(stream);
  counts.recordsFailed('a', 'Expired', 2, true);
  counts.streams.get('a')?.shard('shardId-0').retriesPerRecord.observe(1);
  counts.streams.get('a')?.shard('shardId-1').retriesPerRecord.observe(3);
  return counts;
}

async function scrape(granularity: Granularity, detailed: boolean) {
  const registry = new Registry();
  registerPrometheusMetrics(registry, countsOf(), { granularity, detailed, pending: () => 7 });
  return { registry, metrics: await registry.getMetricsAsJSON() };
}

describe('registerPrometheusMetrics', () => {
  it('sums the counts at scrape time at the configured granularity', async () => {
    const byStream = await scrape('stream', false);
    const received = byStream.metrics.find((m) => m.name === 'kpl_user_records_received_total');
    expect(received?.values).toEqual([
      { labels: { stream: 'a' }, value: 2 },
      { labels: { stream: 'b' }, value: 1 },
    ]);
    const global = await scrape('global', false);
    expect(global.metrics.find((m) => m.name === 'kpl_user_records_received_total')?.values).toEqual([{ labels: {}, value: 3 }]);
    expect(global.metrics.find((m) => m.name === 'kpl_user_records_pending')?.values[0]?.value).toBe(7);
    expect(global.metrics.find((m) => m.name === 'kpl_user_records_failed_total')?.values).toEqual([
      { labels: { error_code: 'Expired' }, value: 2 },
    ]);
    expect(global.metrics.some((m) => m.name === 'kpl_retries_per_record')).toBe(false);
  });

  it('publishes the histograms when detailed, buckets cumulative, summed across shards below shard granularity', async () => {
    const { registry } = await scrape('stream', true);
    const text = await registry.metrics();
    expect(text).toContain('kpl_retries_per_record_bucket{stream="a",le="1"} 1');
    expect(text).toContain('kpl_retries_per_record_bucket{stream="a",le="3"} 2');
    expect(text).toContain('kpl_retries_per_record_count{stream="a"} 2');
    expect(text).toContain('kpl_retries_per_record_sum{stream="a"} 4');
  });
});
