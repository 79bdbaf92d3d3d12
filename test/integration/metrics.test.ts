import { describe, expect, it } from 'vitest';
import type { KinesisProducer, UserRecordResult } from '../../src/index.js';
import { startLocalKinesis } from '../support/index.js';
import { createProducer } from '../support/producer.js';

/** Sums of every sample of the registry by name; errors_by_code also by `name:code`. */
async function totals(producer: KinesisProducer): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  for (const metric of await producer.metrics.getMetricsAsJSON()) {
    for (const value of metric.values as Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>) {
      const name = value.metricName ?? metric.name;
      if (value.labels['le'] !== undefined) continue;
      sums.set(name, (sums.get(name) ?? 0) + value.value);
      const code = value.labels['error_code'];
      if (code !== undefined) sums.set(`${name}:${code}`, (sums.get(`${name}:${code}`) ?? 0) + value.value);
    }
  }
  return sums;
}

describe('producer metrics after a known run', () => {
  it('match what the local Kinesis counted: records, bytes, requests, throttles and failures', async () => {
    const kinesis = await startLocalKinesis({
      streams: [{ name: 'metered', shards: 2 }],
      // A small byte limit, so that the producer's 150 % rate limit meets throttling.
      limits: { bytesPerSecond: 256 * 1024, burstSeconds: 0.5 },
      faults: { recordFailureRate: 0.05 },
      seed: 7,
    });
    const producer = createProducer(kinesis.endpoint, {
      streamName: 'metered',
      metricsLevel: 'detailed',
      aggregationMaxSize: 8192,
      recordMaxBufferedTime: 20,
      retry: { minDelayMs: 20, maxDelayMs: 200 },
    });
    const records = 8000;
    const data = new Uint8Array(100);
    const results = await Promise.allSettled(
      Array.from({ length: records }, (_, i) => producer.add({ partitionKey: `key-${i % 500}`, data })),
    );
    await producer.flush();
    const got = await totals(producer);
    await producer.close();
    const stats = kinesis.stats();
    const stream = stats.streams['metered'];

    expect(results.every((result) => result.status === 'fulfilled')).toBe(true);
    expect(stream?.throttledRecords).toBeGreaterThan(0);
    expect(stream?.failedRecords).toBeGreaterThan(0);
    expect(got.get('kpl_user_records_received_total')).toBe(records);
    expect(got.get('kpl_user_records_put_total')).toBe(records);
    expect(got.get('kpl_user_records_data_put_bytes_total')).toBe(records * data.length);
    expect(got.get('kpl_user_records_pending')).toBe(0);
    expect(got.get('kpl_kinesis_records_put_total')).toBe(stream?.acceptedRecords);
    expect(got.get('kpl_kinesis_records_data_put_bytes_total')).toBe(stream?.acceptedBytes);
    expect(got.get('kpl_request_time_seconds_count')).toBe(stats.putRecordsRequests);
    expect(got.get('kpl_errors_by_code_total:ProvisionedThroughputExceededException')).toBe(stream?.throttledRecords);
    expect(got.get('kpl_errors_by_code_total:InternalFailure')).toBe(stream?.failedRecords);
    expect(got.get('kpl_all_errors_total')).toBe((stream?.throttledRecords ?? 0) + (stream?.failedRecords ?? 0));
    expect(got.get('kpl_kinesis_records_per_put_records_request_sum')).toBe(
      (stream?.acceptedRecords ?? 0) + (got.get('kpl_all_errors_total') ?? 0),
    );
    expect(got.get('kpl_user_records_per_kinesis_record_sum')).toBe(records);
    expect(got.get('kpl_retries_per_record_count')).toBe(records);
    expect(got.get('kpl_retries_per_record_sum')).toBeGreaterThan(0);
    expect(got.get('kpl_user_records_expired_total')).toBe(0);
  });

  it('are exact under failed records, failed requests and throttling: every counter and histogram sum against the results and the server', async () => {
    const kinesis = await startLocalKinesis({
      streams: [{ name: 'faulty', shards: 2 }],
      limits: { bytesPerSecond: 128 * 1024, burstSeconds: 0.5 },
      faults: { recordFailureRate: 0.1, internalFailureRate: 0.1, serviceUnavailableRate: 0.1 },
      seed: 11,
    });
    const producer = createProducer(kinesis.endpoint, {
      streamName: 'faulty',
      metricsLevel: 'detailed',
      aggregationMaxSize: 4096,
      recordMaxBufferedTime: 20,
      retry: { minDelayMs: 20, maxDelayMs: 200 },
    });
    const records = 6000;
    const data = new Uint8Array(100);
    const settled = await Promise.allSettled(
      Array.from({ length: records }, (_, i) => producer.add({ partitionKey: `key-${i % 700}`, data })),
    );
    await producer.flush();
    const got = await totals(producer);
    await producer.close();
    const stats = kinesis.stats();
    const stream = stats.streams['faulty'];
    const results = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const attempts = results.flatMap((result: UserRecordResult) => result.attempts);
    const failedAttempts = attempts.filter((attempt) => !attempt.success);

    expect(results).toHaveLength(records);
    expect(stream?.throttledRecords).toBeGreaterThan(0);
    expect(stream?.failedRecords).toBeGreaterThan(0);
    expect(stats.faults.internalFailure + stats.faults.serviceUnavailable).toBeGreaterThan(0);
    for (const attempt of attempts) {
      expect(Number.isInteger(attempt.delayMs) && Number.isInteger(attempt.durationMs)).toBe(true);
    }
    expect(got.get('kpl_user_records_received_total')).toBe(records);
    expect(got.get('kpl_user_records_put_total')).toBe(records);
    expect(got.get('kpl_user_records_data_put_bytes_total')).toBe(records * data.length);
    expect(got.get('kpl_user_records_pending')).toBe(0);
    expect(got.get('kpl_user_records_failed_total') ?? 0).toBe(0);
    expect(got.get('kpl_user_records_expired_total')).toBe(0);
    expect(got.get('kpl_user_records_resent_after_reshard_total')).toBe(0);
    // A record's retries are its failed attempts, as the attempts it resolved with list them.
    expect(got.get('kpl_retries_per_record_count')).toBe(records);
    expect(got.get('kpl_retries_per_record_sum')).toBe(failedAttempts.length);
    expect(failedAttempts.length).toBeGreaterThan(0);
    // One buffering time per attempt of every user record.
    expect(got.get('kpl_buffering_time_seconds_count')).toBe(attempts.length);
    expect(got.get('kpl_kinesis_records_put_total')).toBe(stream?.acceptedRecords);
    expect(got.get('kpl_kinesis_records_data_put_bytes_total')).toBe(stream?.acceptedBytes);
    expect(got.get('kpl_user_records_per_kinesis_record_sum')).toBe(records);
    expect(got.get('kpl_user_records_per_kinesis_record_count')).toBe(stream?.acceptedRecords);
    expect(got.get('kpl_request_time_seconds_count')).toBe(
      stats.putRecordsRequests + stats.faults.internalFailure + stats.faults.serviceUnavailable,
    );
    expect(got.get('kpl_kinesis_records_per_put_records_request_count')).toBe(got.get('kpl_request_time_seconds_count'));
    expect(got.get('kpl_user_records_per_put_records_request_sum')).toBe(attempts.length);
    expect(got.get('kpl_errors_by_code_total:ProvisionedThroughputExceededException')).toBe(stream?.throttledRecords);
    const failedRequestEntries =
      (got.get('kpl_errors_by_code_total:ServiceUnavailable') ?? 0) +
      (got.get('kpl_errors_by_code_total:InternalFailure') ?? 0) -
      (stream?.failedRecords ?? 0);
    expect(failedRequestEntries).toBeGreaterThan(0);
    expect(got.get('kpl_all_errors_total')).toBe((stream?.throttledRecords ?? 0) + (stream?.failedRecords ?? 0) + failedRequestEntries);
    expect(got.get('kpl_kinesis_records_per_put_records_request_sum')).toBe(
      (stream?.acceptedRecords ?? 0) + (got.get('kpl_all_errors_total') ?? 0),
    );
    // Failed attempts of user records, by code, match what the server did to their Kinesis records.
    const throttledUserAttempts = failedAttempts.filter((attempt) => attempt.errorCode === 'ProvisionedThroughputExceededException').length;
    expect(throttledUserAttempts).toBeGreaterThanOrEqual(stream?.throttledRecords ?? 0);
  });

  it('count expired records and failures that never reached Kinesis', async () => {
    const kinesis = await startLocalKinesis({ streams: [{ name: 'down', shards: 1 }], faults: { internalFailureRate: 1 } });
    const producer = createProducer(kinesis.endpoint, {
      streamName: 'down',
      metricsLevel: 'detailed',
      recordTtl: 300,
      recordMaxBufferedTime: 10,
      retry: { minDelayMs: 20, maxDelayMs: 50 },
      metricsGranularity: 'stream',
    });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => producer.add({ partitionKey: `k${i}`, data: 'x' })));
    const got = await totals(producer);
    await producer.close();

    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(got.get('kpl_user_records_expired_total')).toBe(20);
    expect(got.get('kpl_user_records_failed_total')).toBe(20);
    expect(got.get('kpl_user_records_put_total')).toBe(0);
    expect(got.get('kpl_errors_by_code_total:InternalFailure')).toBe(got.get('kpl_all_errors_total'));
    // Errors count failed Kinesis records, one per attempt of the aggregate: how many attempts fit
    // in recordTtl depends on the machine's load, so only their presence is checked.
    expect(got.get('kpl_all_errors_total')).toBeGreaterThan(0);
  });
});
