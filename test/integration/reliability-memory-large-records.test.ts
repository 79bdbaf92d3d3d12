/**
 * Issue 4, item 2: the default maxOutstandingBytes (64 MiB) should keep a default producer under
 * about 256 MiB. Filled with 100 KB records against an endpoint that never answers, the byte
 * limit binds. (One case per file: RSS keeps what an earlier case freed.)
 */
import { describe, expect, it } from 'vitest';
import { BufferFullError } from '../../src/index.js';
import { fillDefaultProducer, megabytes } from '../support/memory.js';

const MIB = 1024 * 1024;

describe('reliability: memory of a default producer filled with 100 KB records', () => {
  it('holds 64 MiB of records; the process grows by less than 256 MiB', async () => {
    const run = await fillDefaultProducer(100_000);
    const rssGrowth = run.filled.rss - run.before.rss;
    console.log(
      `memory, 100 KB records: ${run.held} held (${megabytes(run.payloadBytes)} of payload) in ${run.fillMs.toFixed(0)} ms, ` +
        `${run.hangingRequests} requests hanging; RSS ${megabytes(run.before.rss)} -> ${megabytes(run.filled.rss)} (+${megabytes(rssGrowth)}); ` +
        `reachable heap ${megabytes(run.before.heapUsed)} -> ${megabytes(run.filled.heapUsed)}, buffers ${megabytes(run.before.arrayBuffers)} -> ${megabytes(run.filled.arrayBuffers)}`,
    );
    expect(run.refusal).toBeInstanceOf(BufferFullError);
    expect(run.refusal).toMatchObject({ field: 'maxOutstandingBytes', limit: 64 * MIB, max: 64 * MIB });
    // The records themselves, plus the bodies of the requests in flight (base64: 4/3 of their data).
    expect(rssGrowth).toBeLessThan(256 * MIB);
  });
});
