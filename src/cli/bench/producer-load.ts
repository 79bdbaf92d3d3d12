import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { KinesisProducer } from '../../producer.js';
import { LatencyRecorder } from './latency.js';
import { DeliveredSet, type LoadHooks, type LoadResult, RunMonitor } from './load-result.js';
import type { RecordFactory, Workload } from './workload.js';

/** Records added between two yields to the event loop, so that sockets and timers keep running. */
const ADDS_PER_TURN = 1000;

/**
 * Offers the workload to a producer the way an application would: add() at the offered rate, or as
 * fast as the producer's backpressure allows, awaiting ready() while it holds
 * `maxOutstandingRecords`. Resolves once every record offered has settled (flush()).
 */
export async function runProducerLoad(
  producer: KinesisProducer,
  factory: RecordFactory,
  workload: Workload,
  hooks: LoadHooks = {},
  keepIndices = false,
): Promise<LoadResult> {
  const latency = new LatencyRecorder();
  const failuresByCode: Record<string, number> = {};
  const limit = workload.records ?? Infinity;
  const delivered = new DeliveredSet(keepIndices && factory.marked);
  let offered = 0;
  let deliveredBytes = 0;
  let failed = 0;
  let heldMs = 0;
  const start = performance.now();
  const progress = () => ({ elapsedMs: performance.now() - start, offered, delivered: delivered.count, failed });
  const monitor = new RunMonitor(() => hooks.onProgress?.(progress()));

  const add = (index: number): void => {
    const record = factory.create(index);
    const addedAt = performance.now();
    producer.add(record).then(
      () => {
        delivered.add(index);
        deliveredBytes += (record.data as Buffer).length;
        latency.record(performance.now() - addedAt);
      },
      (error: unknown) => {
        failed++;
        const code = errorCodeOf(error);
        failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
      },
    );
  };

  try {
    for (;;) {
      const elapsed = performance.now() - start;
      if (offered >= limit || hooks.signal?.aborted === true) break;
      if (workload.durationMs !== undefined && elapsed >= workload.durationMs) break;
      const due = workload.rate === undefined ? limit : Math.min(limit, Math.floor((workload.rate * elapsed) / 1000) + 1);
      let added = 0;
      while (offered < due && added < ADDS_PER_TURN && producer.outstandingRecords < workload.maxOutstandingRecords) {
        add(offered++);
        added++;
      }
      if (producer.outstandingRecords >= workload.maxOutstandingRecords) {
        const heldFrom = performance.now();
        await producer.ready();
        // ready() answers to the producer's own maxOutstandingRecords, which may be higher.
        if (producer.outstandingRecords >= workload.maxOutstandingRecords) await sleep(1);
        heldMs += performance.now() - heldFrom;
      } else if (offered >= due && workload.rate !== undefined)
        await sleep(Math.max(1, Math.ceil(((offered + 1) * 1000) / workload.rate - elapsed)));
      else await yieldToEventLoop();
    }
    await producer.flush();
  } finally {
    monitor.stop();
  }
  return {
    ...progress(),
    deliveredBytes,
    failuresByCode,
    latency,
    peakRssBytes: monitor.peakRssBytes,
    cpuPercent: monitor.cpuPercent,
    heldMs,
    deliveredIndices: delivered.indices,
  };
}

/** The error code of a failed record: the last attempt's Kinesis code, else the error's code or name. */
function errorCodeOf(error: unknown): string {
  const attempts = (error as { attempts?: Array<{ errorCode?: string }> } | undefined)?.attempts;
  const last = attempts?.[attempts.length - 1]?.errorCode;
  if (last !== undefined) return last;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'Unknown';
}
