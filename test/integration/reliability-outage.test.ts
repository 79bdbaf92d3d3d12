import { describe, expect, it } from 'vitest';
import { BufferFullError, type KinesisProducer, type UserRecordResult } from '../../src/index.js';
import { createKinesisClient, listAllShards, startLocalKinesis } from '../support/index.js';
import { createProducer } from '../support/producer.js';
import { balancedPartitionKeys, checkReadBack, readTaggedRecords, TaggedSource } from '../support/tagged-records.js';

const MIB = 1024 * 1024;
const RECORDS_PER_SECOND = 1000;
const TICK_MS = 10;
const OUTAGE_STARTS_MS = 1500;
const OUTAGE_MS = 5000;
const RUN_MS = OUTAGE_STARTS_MS + OUTAGE_MS + 2000;

/** One gateway: a producer fed at a steady rate that counts what it refuses, as a forwarder would. */
interface Gateway {
  readonly name: string;
  readonly producer: KinesisProducer;
  readonly source: TaggedSource;
  readonly deliveries: Array<Promise<UserRecordResult>>;
  readonly refusals: BufferFullError[];
  /** Index in source.made of every record refused. */
  readonly refused: Set<number>;
  peakRecords: number;
  peakBytes: number;
}

describe("reliability: a 5 s outage in the middle of a run (an IoT gateway's link)", () => {
  it('holds records up to maxOutstandingRecords / maxOutstandingBytes, refuses beyond with BufferFullError naming the limit, delivers every held record after recovery', async () => {
    const local = await startLocalKinesis({
      streams: [
        { name: 'gateway-records', shards: 2 },
        { name: 'gateway-bytes', shards: 2 },
      ],
    });
    const client = createKinesisClient(local.endpoint);
    try {
      const gateways: Gateway[] = [];
      // One gateway meets its record limit first (small records), the other its byte limit (2 KB records).
      for (const [name, recordBytes, limits] of [
        ['gateway-records', 200, { maxOutstandingRecords: 2000 }],
        ['gateway-bytes', 2000, { maxOutstandingBytes: MIB }],
      ] as const) {
        const keys = balancedPartitionKeys(await listAllShards(client, name), 16);
        gateways.push({
          name,
          producer: createProducer(local.endpoint, { streamName: name, ...limits }),
          source: new TaggedSource(keys, recordBytes),
          deliveries: [],
          refusals: [],
          refused: new Set(),
          peakRecords: 0,
          peakBytes: 0,
        });
      }

      let outage: Promise<void> | undefined;
      let outageEndedAt = Infinity;
      let firstRefusalSettledAtOnce: boolean | undefined;
      const started = performance.now();
      let offered = 0;
      for (let now = started; now < started + RUN_MS; now = performance.now()) {
        if (outage === undefined && now - started >= OUTAGE_STARTS_MS) {
          outage = local.outage(OUTAGE_MS).then(() => {
            outageEndedAt = performance.now();
          });
        }
        for (; offered < ((now - started) * RECORDS_PER_SECOND) / 1000; offered++) {
          for (const gateway of gateways) {
            const index = gateway.source.made.length;
            const outstandingBefore = gateway.producer.outstandingRecords;
            const delivery = gateway.producer.add(gateway.source.next());
            gateway.deliveries.push(delivery);
            delivery.catch((error: unknown) => {
              if (!(error instanceof BufferFullError)) return;
              gateway.refusals.push(error);
              gateway.refused.add(index);
            });
            if (firstRefusalSettledAtOnce === undefined && gateway.producer.outstandingRecords === outstandingBefore) {
              firstRefusalSettledAtOnce = await settlesBeforeIo(delivery);
            }
            gateway.peakRecords = Math.max(gateway.peakRecords, gateway.producer.outstandingRecords);
            gateway.peakBytes = Math.max(gateway.peakBytes, gateway.producer.outstandingBytes);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      }
      await outage;
      const settled = await Promise.all(gateways.map((gateway) => Promise.allSettled(gateway.deliveries)));
      const drainedAfterOutageMs = performance.now() - outageEndedAt;

      expect(firstRefusalSettledAtOnce).toBe(true);
      for (const [g, gateway] of gateways.entries()) {
        const outcomes = settled[g] as Array<PromiseSettledResult<UserRecordResult>>;
        const delivered = outcomes.filter((outcome): outcome is PromiseFulfilledResult<UserRecordResult> => outcome.status === 'fulfilled');
        const otherFailures = outcomes.flatMap((outcome) =>
          outcome.status === 'rejected' && !(outcome.reason instanceof BufferFullError) ? [String(outcome.reason)] : [],
        );
        const sawOutage = delivered.some((outcome) => outcome.value.attempts.some((attempt) => !attempt.success));
        const check = checkReadBack(
          await readTaggedRecords(client, gateway.name),
          gateway.source.only((index) => !gateway.refused.has(index)),
        );
        const limit = gateway.name === 'gateway-records' ? 'maxOutstandingRecords' : 'maxOutstandingBytes';
        const max = gateway.name === 'gateway-records' ? 2000 : MIB;
        console.log(
          `${gateway.name}: ${outcomes.length} offered, ${delivered.length} delivered, ${gateway.refusals.length} refused with ${limit}; ` +
            `peak outstanding ${gateway.peakRecords} records / ${gateway.peakBytes} bytes; all settled ${(drainedAfterOutageMs / 1000).toFixed(1)} s after the outage; ` +
            `read back ${check.duplicates.length} duplicates (a request cut by the outage after it was stored is sent again)`,
        );

        expect(otherFailures.slice(0, 3)).toEqual([]);
        expect(sawOutage).toBe(true);
        // Held up to the limit, never beyond it.
        expect(gateway.refusals.length).toBeGreaterThan(0);
        if (limit === 'maxOutstandingRecords') expect(gateway.peakRecords).toBe(max);
        else {
          expect(gateway.peakBytes).toBeLessThanOrEqual(max);
          expect(gateway.peakBytes).toBeGreaterThan(max - 2100);
        }
        for (const refusal of gateway.refusals) {
          expect(refusal).toMatchObject({ code: 'KPL_BUFFER_FULL', field: limit, limit: max, max });
          expect(refusal.message).toContain(limit);
          expect(refusal.message).toContain(max.toLocaleString('en-US'));
        }
        // Every record held is delivered; refused records never reach the stream. At least once:
        // a request in flight when the outage cut its connection may have been stored.
        expect(check.missing.slice(0, 10)).toEqual([]);
        expect(check.unexpected.slice(0, 10)).toEqual([]);
        expect(delivered.length + gateway.refusals.length).toBe(outcomes.length);
      }
    } finally {
      client.destroy();
    }
  });
});

/** True when `promise` has settled before any I/O callback could run (rejected at once). */
async function settlesBeforeIo(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}
