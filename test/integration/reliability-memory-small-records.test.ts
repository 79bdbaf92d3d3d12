/**
 * Issue 4, item 2: the default maxOutstandingRecords (150,000) should keep a default producer
 * under about 256 MiB. Filled with 100-byte records against an endpoint that never answers, the
 * record limit binds. (One case per file: RSS keeps what an earlier case freed.)
 */
import { describe, expect, it } from 'vitest';
import { BufferFullError } from '../../src/index.js';
import { fillDefaultProducer, megabytes } from '../support/memory.js';

const MIB = 1024 * 1024;

describe('reliability: memory of a default producer filled with 100-byte records', () => {
  it('holds 150,000 records; the process grows by about 240 MB, under the ~256 MiB asked', async () => {
    const run = await fillDefaultProducer(100);
    const rssGrowth = run.filled.rss - run.before.rss;
    console.log(
      `memory, 100-byte records: ${run.held} held (${megabytes(run.payloadBytes)} of payload) in ${run.fillMs.toFixed(0)} ms, ` +
        `${run.hangingRequests} requests hanging; RSS ${megabytes(run.before.rss)} -> ${megabytes(run.filled.rss)} (+${megabytes(rssGrowth)}); ` +
        `reachable heap ${megabytes(run.before.heapUsed)} -> ${megabytes(run.filled.heapUsed)}, buffers ${megabytes(run.before.arrayBuffers)} -> ${megabytes(run.filled.arrayBuffers)}`,
    );
    expect(run.refusal).toBeInstanceOf(BufferFullError);
    expect(run.refusal).toMatchObject({ field: 'maxOutstandingRecords', limit: 150_000, max: 150_000 });
    // With 200,000 records the default grew the process by 272 to 307 MB: about 1.5 KB a record, of
    // which some 0.4 KB is the records themselves (their objects, bytes and keys), 0.35 KB the
    // producer's objects per record (PendingRecord, promise, its resolvers) and the rest the encoded
    // aggregates and request bodies in flight. The default is 150,000 for that reason: measured
    // +233 MB. The bound leaves room for RSS noise around "about 256 MiB".
    expect(rssGrowth).toBeLessThan(280 * MIB);
  });
});
