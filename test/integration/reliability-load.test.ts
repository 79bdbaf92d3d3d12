import { describe, expect, it } from 'vitest';
import type { UserRecordResult } from '../../src/index.js';
import { type Faults, type LocalKinesis } from '../../src/testing/index.js';
import { createKinesisClient, listAllShards, startLocalKinesis } from '../support/index.js';
import { createProducer } from '../support/producer.js';
import { balancedPartitionKeys, checkReadBack, readTaggedRecords, TaggedSource } from '../support/tagged-records.js';

const STREAM = 'overload';
const SHARDS = 2;
const MIB = 1024 * 1024;
/** 5,000-byte records: ten make an aggregate, so a shard's 1 MiB/s binds long before its 1,000 records/s. */
const RECORD_BYTES = 5000;
const KEYS = 64;
const OFFER_SECONDS = 10;
const OVERLOAD = 3;
const TICK_MS = 20;
/** 2 % of records fail on their own, 4 % of requests fail whole (500 and 503), now and then a connection resets. */
const FAULTS: Faults = {
  recordFailureRate: 0.02,
  internalFailureRate: 0.02,
  serviceUnavailableRate: 0.02,
  connectionResetRate: 0.005,
};

describe('reliability: overload and faults', () => {
  it(`offered ${OVERLOAD}x the shards' byte limit for ${OFFER_SECONDS} s with faults: every record delivered exactly once, shards kept at >= 85 %`, async () => {
    const local = await startLocalKinesis({ streams: [{ name: STREAM, shards: SHARDS }], faults: FAULTS, seed: 4 });
    const limits = local.limits;
    if (limits === false) throw new Error('LocalKinesis must enforce limits here');
    const client = createKinesisClient(local.endpoint);
    try {
      const keys = balancedPartitionKeys(await listAllShards(client, STREAM), KEYS);
      // The producer's defaults: rateLimit 150 %, recordTtl 30 s, 64 MiB of outstanding bytes, which holds the whole backlog.
      const producer = createProducer(local.endpoint, { streamName: STREAM });
      const source = new TaggedSource(keys, RECORD_BYTES);
      const deliveries: Array<Promise<UserRecordResult>> = [];
      const bytesPerMs = (OVERLOAD * SHARDS * limits.bytesPerSecond) / 1000;

      const started = performance.now();
      let slowest = 0;
      let resetForced = false;
      for (let now = started; now < started + OFFER_SECONDS * 1000; now = performance.now()) {
        while (source.offeredBytes < (now - started) * bytesPerMs) {
          const addedAt = performance.now();
          deliveries.push(
            producer.add(source.next()).then((result) => {
              slowest = Math.max(slowest, performance.now() - addedAt);
              return result;
            }),
          );
        }
        if (!resetForced && now - started > (OFFER_SECONDS * 1000) / 2) {
          resetForced = true;
          await forceConnectionReset(local);
        }
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      }
      const offeredSeconds = (performance.now() - started) / 1000;
      const settled = await Promise.allSettled(deliveries);
      const seconds = (performance.now() - started) / 1000;
      const stats = local.stats();

      const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : []));
      const attempts = settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.attempts.length : 0));
      const acceptedShare = stats.acceptedBytes / (SHARDS * limits.bytesPerSecond * seconds);
      const check = checkReadBack(await readTaggedRecords(client, STREAM), source.sent);
      console.log(
        `overload: ${deliveries.length} records (${(source.offeredBytes / MIB).toFixed(1)} MiB) offered in ${offeredSeconds.toFixed(1)} s, ` +
          `all settled after ${seconds.toFixed(1)} s; accepted ${(stats.acceptedBytes / MIB).toFixed(1)} MiB = ` +
          `${(acceptedShare * 100).toFixed(1)} % of ${SHARDS} shards x ${limits.bytesPerSecond} B/s over the run; ` +
          `throttled ${stats.throttledRecords} Kinesis records, failed ${stats.failedRecords}, faults ${JSON.stringify(stats.faults)}; ` +
          `attempts per record max ${Math.max(...attempts)}, slowest record ${(slowest / 1000).toFixed(1)} s (recordTtl 30 s); without strictOrdering ${check.outOfOrder.length} of ${KEYS} keys read back out of order`,
      );

      expect(failures.slice(0, 3)).toEqual([]);
      expect(stats.throttledRecords).toBeGreaterThan(0);
      expect(stats.failedRecords).toBeGreaterThan(0);
      expect(stats.faults.internalFailure + stats.faults.serviceUnavailable).toBeGreaterThan(0);
      expect(stats.faults.connectionReset).toBeGreaterThan(0);
      // A reset is injected before anything is stored, so a retry never duplicates: exactly once.
      expect(check.missing.slice(0, 10)).toEqual([]);
      expect(check.duplicates.slice(0, 10)).toEqual([]);
      expect(check.unexpected).toEqual([]);
      expect(acceptedShare).toBeGreaterThanOrEqual(0.85);
    } finally {
      client.destroy();
    }
  }, 90_000);
});

/** Resets connections until one request has been reset, then restores the run's faults. */
async function forceConnectionReset(local: LocalKinesis): Promise<void> {
  const before = local.stats().faults.connectionReset;
  local.setFaults({ recordFailureRate: FAULTS.recordFailureRate ?? 0, connectionResetRate: 1 });
  const giveUpAt = performance.now() + 2000;
  while (local.stats().faults.connectionReset === before && performance.now() < giveUpAt) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  local.setFaults(FAULTS);
}
