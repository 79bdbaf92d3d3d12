import { describe, expect, it } from 'vitest';
import { UserRecordFailedError } from '../../src/index.js';
import { startLocalKinesis } from '../support/index.js';
import { createProducer } from '../support/producer.js';

const RECORD_TTL_MS = 2_000;
const REQUEST_TIMEOUT_MS = 1_000;
const LINGER_MS = 100;
const OFFER_MS = 5_000;
const RECORD_BYTES = 1_000;
/** The service's byte limit of one shard, which LocalKinesis enforces. */
const SHARD_BYTES_PER_SECOND = 1024 * 1024;
/** Slack for timers under a loaded machine, in ms. */
const TIMER_SLACK_MS = 100;

describe('recordTtl wherever a record waits', () => {
  it('one shard offered three times its limit: nothing is put after recordTtl + requestTimeout, every failure is an expiry within a linger of its deadline, and the shard stays busy with live records', async () => {
    const kinesis = await startLocalKinesis({ streams: [{ name: 'overloaded', shards: 1 }] });
    const producer = createProducer(kinesis.endpoint, {
      streamName: 'overloaded',
      recordTtl: RECORD_TTL_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      recordMaxBufferedTime: LINGER_MS,
      retry: { minDelayMs: LINGER_MS, maxDelayMs: 1_000 },
      maxOutstandingRecords: 100_000,
    });
    const perSecond = Math.round((3 * SHARD_BYTES_PER_SECOND) / (RECORD_BYTES + 8));
    const putLate: number[] = [];
    const failures: Array<{ error: unknown; fromDeadlineMs: number }> = [];
    const settling: Array<Promise<void>> = [];
    let put = 0;
    const started = performance.now();
    let offered = 0;
    while (performance.now() - started < OFFER_MS) {
      const due = Math.ceil(((performance.now() - started) / 1000) * perSecond);
      for (; offered < due; offered++) {
        const addedAt = performance.now();
        settling.push(
          producer.add({ partitionKey: `k${offered % 1000}`.padEnd(8, '-'), data: new Uint8Array(RECORD_BYTES) }).then(
            () => {
              put++;
              const tookMs = performance.now() - addedAt;
              if (tookMs > RECORD_TTL_MS + REQUEST_TIMEOUT_MS) putLate.push(tookMs);
            },
            (error: unknown) => {
              failures.push({ error, fromDeadlineMs: performance.now() - (addedAt + RECORD_TTL_MS) });
            },
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const offerSeconds = (performance.now() - started) / 1000;
    await Promise.all(settling);
    const stream = kinesis.stats().streams['overloaded'];
    const late = failures.filter(({ fromDeadlineMs }) => Math.abs(fromDeadlineMs) > LINGER_MS + TIMER_SLACK_MS);
    console.log(
      `one shard offered ${offered} records (${((offered * RECORD_BYTES) / SHARD_BYTES_PER_SECOND / offerSeconds).toFixed(1)}x its byte limit) ` +
        `for ${offerSeconds.toFixed(1)} s: ${put} put, ${failures.length} expired (from their deadline ` +
        `${Math.min(...failures.map((f) => f.fromDeadlineMs)).toFixed(0)} to ${Math.max(...failures.map((f) => f.fromDeadlineMs)).toFixed(0)} ms); ` +
        `stored ${((stream?.acceptedBytes ?? 0) / SHARD_BYTES_PER_SECOND / offerSeconds).toFixed(2)}x the limit's bytes, ` +
        `${stream?.throttledRecords ?? 0} Kinesis records throttled`,
    );

    expect(put + failures.length).toBe(offered);
    expect(putLate).toEqual([]);
    expect(failures.length).toBeGreaterThan(0);
    for (const { error } of failures) {
      expect(error).toBeInstanceOf(UserRecordFailedError);
      expect((error as UserRecordFailedError).reason).toBe('expired');
    }
    expect(late.map(({ fromDeadlineMs }) => Math.round(fromDeadlineMs))).toEqual([]);
    // The shard's limit stays used: by records that were put, since nothing expired was sent.
    expect((stream?.acceptedBytes ?? 0) / offerSeconds).toBeGreaterThan(0.85 * SHARD_BYTES_PER_SECOND);
  });
});
