import { describe, expect, it } from 'vitest';
import { BufferFullError, UserRecordFailedError, type UserRecordResult } from '../../src/index.js';
import { createKinesisClient, listAllShards, startLocalKinesis } from '../support/index.js';
import { megabytes, memoryAfterGc, type MemorySnapshot } from '../support/memory.js';
import { createProducer } from '../support/producer.js';
import { balancedPartitionKeys, checkReadBack, readTaggedRecords, TaggedSource, taggedData } from '../support/tagged-records.js';

const STREAM = 'silent';
const MAX_OUTSTANDING = 1000;
const RECORD_TTL_MS = 2000;
const REQUEST_TIMEOUT_MS = 500;
/** Offered while the endpoint hangs: 100 MB in all, 100 times what the producer may hold. */
const OFFERED = 100_000;
const RECORD_BYTES = 1000;
const OFFER_MS = 3000;
const MB = 1_000_000;

describe('reliability: an endpoint that never answers', () => {
  it('keeps memory bounded, keeps ready() pending while full, expires records with their attempts, and delivers again once the endpoint answers', async () => {
    const local = await startLocalKinesis({ streams: [{ name: STREAM, shards: 2 }], faults: { hangRate: 1 } });
    const client = createKinesisClient(local.endpoint);
    try {
      const keys = balancedPartitionKeys(await listAllShards(client, STREAM), 8);
      const producer = createProducer(local.endpoint, {
        streamName: STREAM,
        maxOutstandingRecords: MAX_OUTSTANDING,
        recordTtl: RECORD_TTL_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
      });
      const held: Array<Promise<UserRecordResult>> = [];
      const refusals: Array<Promise<UserRecordResult>> = [];
      let refused = 0;
      let peakOutstanding = 0;
      let peakRss = 0;
      let readyWhileFull: 'pending' | 'resolved' | undefined;

      const before = memoryAfterGc();
      let halfway: MemorySnapshot | undefined;
      const started = performance.now();
      for (let offered = 0; offered < OFFERED;) {
        const due = Math.min(OFFERED, Math.ceil(((performance.now() - started) / OFFER_MS) * OFFERED));
        for (; offered < due; offered++) {
          const outstanding = producer.outstandingRecords;
          // Fresh bytes for every record, as a gateway reading a socket would have: kept ones would show.
          const key = offered % keys.length;
          const delivery = producer.add({ partitionKey: keys[key] as string, data: taggedData(key, offered, RECORD_BYTES) });
          // Held records fail while this loop still runs: handle them now, inspect them below.
          delivery.catch(() => undefined);
          if (producer.outstandingRecords > outstanding) held.push(delivery);
          // A sample only: holding every refused promise would itself grow the heap.
          else if (refused++ < 100) refusals.push(delivery);
          peakOutstanding = Math.max(peakOutstanding, producer.outstandingRecords);
        }
        if (readyWhileFull === undefined && producer.outstandingRecords === MAX_OUTSTANDING) {
          let state: 'pending' | 'resolved' = 'pending';
          void producer.ready().then(() => {
            state = 'resolved';
          });
          await new Promise((resolve) => setTimeout(resolve, 200));
          // Still full (the first records expire only after recordTtl), so ready() must still wait.
          if (producer.outstandingRecords === MAX_OUTSTANDING) readyWhileFull = state;
        }
        if (halfway === undefined && offered >= OFFERED / 2) halfway = memoryAfterGc();
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const end = memoryAfterGc();
      const outcomes = await Promise.allSettled(held);
      const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      const attemptCounts = failures.map((error) => (error instanceof UserRecordFailedError ? error.attempts.length : 0));
      console.log(
        `hanging endpoint: ${OFFERED} records (${(OFFERED * RECORD_BYTES) / MB} MB) offered in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
          `${held.length} held and expired, ${refused} refused; peak outstanding ${peakOutstanding}; ` +
          `RSS before ${megabytes(before.rss)}, halfway ${megabytes(halfway?.rss ?? 0)}, end ${megabytes(end.rss)}, peak ${megabytes(peakRss)}; ` +
          `reachable heap + buffers before ${megabytes(before.heapUsed + before.arrayBuffers)}, end ${megabytes(end.heapUsed + end.arrayBuffers)}; ` +
          `attempts per expired record ${Math.min(...attemptCounts)} to ${Math.max(...attemptCounts)}`,
      );

      expect(readyWhileFull).toBe('pending');
      expect(peakOutstanding).toBe(MAX_OUTSTANDING);
      expect(refused).toBeGreaterThan(OFFERED / 2);
      for (const outcome of await Promise.allSettled(refusals)) {
        expect(outcome).toMatchObject({ status: 'rejected', reason: { field: 'maxOutstandingRecords' } });
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(BufferFullError);
      }
      // Nothing answered, so every record held fails, as expired, with every attempt it made.
      expect(failures).toHaveLength(held.length);
      for (const error of failures) {
        expect(error).toBeInstanceOf(UserRecordFailedError);
        const { attempts, message } = error as UserRecordFailedError;
        expect(message).toMatch(/expired/);
        expect(attempts.length).toBeGreaterThanOrEqual(1);
        for (const attempt of attempts) expect(attempt).toMatchObject({ success: false, errorCode: 'RequestTimeout' });
      }
      // Memory: 100 MB went through add(), the producer may hold 1,000 records of 1 KB. What is
      // still reachable after a full GC must not grow with what was offered; RSS, which also keeps
      // what the allocator freed and holds vitest, kinesalite and the hanging server, only
      // leniently: its second half must not grow like the first 50 MB offered would if kept.
      expect(end.heapUsed + end.arrayBuffers - (before.heapUsed + before.arrayBuffers)).toBeLessThan(32 * MB);
      expect(end.rss - (halfway?.rss ?? Infinity)).toBeLessThan(32 * MB);

      local.setFaults({});
      await producer.ready();
      const source = new TaggedSource(keys, RECORD_BYTES);
      const after = await Promise.all(Array.from({ length: 200 }, () => producer.add(source.next())));
      expect(after.every((result) => result.successful)).toBe(true);
      const check = checkReadBack(await readTaggedRecords(client, STREAM), source.sent);
      expect(check.missing).toEqual([]);
      expect(check.duplicates).toEqual([]);
      // Nothing sent to the hanging endpoint was stored.
      expect(check.unexpected).toEqual([]);
    } finally {
      client.destroy();
    }
  });
});
