import { describe, expect, it } from 'vitest';
import type { UserRecordResult } from '../../src/index.js';
import type { Faults } from '../../src/testing/index.js';
import { createKinesisClient, listAllShards, startLocalKinesis } from '../support/index.js';
import { createProducer } from '../support/producer.js';
import { balancedPartitionKeys, checkReadBack, readTaggedRecords, TaggedSource } from '../support/tagged-records.js';

const STREAM = 'ordered';
const SHARDS = 2;
const RECORD_BYTES = 1000;
const KEYS = 32;
/**
 * The server's byte limit, a quarter of the service's. strictOrdering sends one aggregate per shard
 * per request and one request per shard at a time, about half a shard's 1 MiB/s here, so the
 * service's own limit would never throttle it. A lower limit that the producer's rate limiter
 * does not know about makes throttling constant.
 */
const BYTES_PER_SECOND = 256 * 1024;
/** Offered: 1.5x the server's byte limit. */
const OVERLOAD = 1.5;
const OFFER_MS = 4000;
const TICK_MS = 10;
const FAULTS: Faults = {
  recordFailureRate: 0.05,
  internalFailureRate: 0.03,
  serviceUnavailableRate: 0.03,
  connectionResetRate: 0.01,
};

describe('reliability: strictOrdering under throttling and faults', () => {
  it("reads every partition key's records back in the order they were added, none lost", async () => {
    const local = await startLocalKinesis({
      streams: [{ name: STREAM, shards: SHARDS }],
      limits: { bytesPerSecond: BYTES_PER_SECOND },
      faults: FAULTS,
      seed: 5,
    });
    const limits = local.limits;
    if (limits === false) throw new Error('LocalKinesis must enforce limits here');
    const client = createKinesisClient(local.endpoint);
    try {
      const keys = balancedPartitionKeys(await listAllShards(client, STREAM), KEYS);
      const producer = createProducer(local.endpoint, { streamName: STREAM, strictOrdering: true });
      const source = new TaggedSource(keys, RECORD_BYTES);
      const deliveries: Array<Promise<UserRecordResult>> = [];
      const bytesPerMs = (OVERLOAD * SHARDS * limits.bytesPerSecond) / 1000;
      const started = performance.now();
      for (let now = started; now < started + OFFER_MS; now = performance.now()) {
        while (source.offeredBytes < (now - started) * bytesPerMs) deliveries.push(producer.add(source.next()));
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      }
      const settled = await Promise.allSettled(deliveries);
      const seconds = (performance.now() - started) / 1000;
      const stats = local.stats();
      const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : []));
      const retried = settled.filter((outcome) => outcome.status === 'fulfilled' && outcome.value.attempts.length > 1).length;
      const check = checkReadBack(await readTaggedRecords(client, STREAM), source.sent);
      console.log(
        `strictOrdering: ${deliveries.length} records settled in ${seconds.toFixed(1)} s, ${retried} of them retried; ` +
          `throttled ${stats.throttledRecords} Kinesis records, failed ${stats.failedRecords}, faults ${JSON.stringify(stats.faults)}; ` +
          `${check.outOfOrder.length} keys out of order`,
      );

      expect(failures.slice(0, 3)).toEqual([]);
      expect(stats.throttledRecords).toBeGreaterThan(0);
      expect(stats.failedRecords).toBeGreaterThan(0);
      expect(stats.faults.internalFailure + stats.faults.serviceUnavailable).toBeGreaterThan(0);
      expect(retried).toBeGreaterThan(0);
      expect(check.outOfOrder).toEqual([]);
      expect(check.missing.slice(0, 10)).toEqual([]);
      expect(check.duplicates.slice(0, 10)).toEqual([]);
      expect(check.unexpected).toEqual([]);
    } finally {
      client.destroy();
    }
  });
});
