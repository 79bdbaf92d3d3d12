import v8 from 'node:v8';
import vm from 'node:vm';
import { KinesisProducer } from '../../src/index.js';
import { startScriptedKinesis } from './scripted-kinesis.js';

/** What the process holds, in bytes. */
export interface MemorySnapshot {
  /** Resident set size: what the OS sees, including freed memory the allocator keeps. */
  readonly rss: number;
  /** JavaScript objects still reachable, after a full garbage collection. */
  readonly heapUsed: number;
  /** ArrayBuffer and Buffer memory still reachable, after a full garbage collection. */
  readonly arrayBuffers: number;
}

let collect: (() => void) | undefined;

/**
 * Runs a full garbage collection, then reads process.memoryUsage(), so that what is reported is
 * what is still reachable. The collector is reached as Jest's leak detector does: turn on
 * --expose-gc at run time and take `gc` from a new context.
 */
export function memoryAfterGc(): MemorySnapshot {
  if (collect === undefined) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
  const { rss, heapUsed, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, arrayBuffers };
}

/** Bytes as whole megabytes (10^6), for log lines. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(0)} MB`;
}

/** What {@link fillDefaultProducer} measured. */
export interface FilledProducer {
  /** Records the producer took before it refused one. */
  readonly held: number;
  /** Their payload bytes, as maxOutstandingBytes counts them. */
  readonly payloadBytes: number;
  /** The BufferFullError that ended the filling. */
  readonly refusal: unknown;
  /** PutRecords requests the endpoint was left holding. */
  readonly hangingRequests: number;
  readonly fillMs: number;
  readonly before: MemorySnapshot;
  readonly filled: MemorySnapshot;
}

/**
 * Fills a producer with default limits, against an endpoint that never answers, with records of
 * `recordBytes` (fresh, non-zero bytes each, so that every page is really touched) until it
 * refuses one, and reads the memory before and after. Run it once per process: RSS keeps what
 * an earlier run freed, which would hide this run's growth.
 */
export async function fillDefaultProducer(recordBytes: number): Promise<FilledProducer> {
  // Enough shards that the producer's per-shard rate limit never holds records back.
  const server = await startScriptedKinesis('memory', 'hang', { shards: 64 });
  const before = memoryAfterGc();
  const producer = new KinesisProducer({
    streamName: 'memory',
    endpoint: server.endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    // Every other option at its default; records must outlive the measurement.
    recordTtl: 600_000,
    requestTimeout: 600_000,
  });
  try {
    let held = 0;
    let refusal: unknown;
    const started = performance.now();
    for (let i = 0; refusal === undefined; i++) {
      const outstanding = producer.outstandingRecords;
      const delivery = producer.add({ partitionKey: `device-${i % 10_000}`, data: new Uint8Array(recordBytes).fill((i % 255) + 1) });
      delivery.catch(() => undefined);
      if (producer.outstandingRecords > outstanding) held++;
      else refusal = await delivery.catch((error: unknown) => error);
      // Let batches go out as they close, as they would in an application.
      if (i % 5000 === 4999) await new Promise((resolve) => setImmediate(resolve));
    }
    const fillMs = performance.now() - started;
    // Let every request that can start reach the endpoint.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const filled = memoryAfterGc();
    return { held, payloadBytes: producer.outstandingBytes, refusal, hangingRequests: server.putRecordsRequests, fillMs, before, filled };
  } finally {
    // Denying every request, the hanging ones included, settles the records at once, so close() is quick.
    server.setScript('deny-quoting-headers');
    await producer.close();
    await server.close();
  }
}
