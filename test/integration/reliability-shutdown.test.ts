import { afterEach, describe, expect, it } from 'vitest';
import { KinesisProducer, ProducerClosedError, UserRecordFailedError } from '../../src/index.js';
import type { ProducerConfig } from '../../src/config.js';
import { type PutRecordsScript, type ScriptedKinesis, startScriptedKinesis } from '../support/scripted-kinesis.js';

const STREAM = 'closing';
const RECORDS = 50;

let server: ScriptedKinesis | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Active handles by type (sockets, timers, servers...), as counts. */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Handle types more numerous now than in `before`, e.g. ['Timeout'] for a timer left behind. */
function extraResources(before: Record<string, number>): string[] {
  return Object.entries(activeResources())
    .filter(([type, count]) => count > (before[type] ?? 0))
    .map(([type]) => type);
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const giveUpAt = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > giveUpAt) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Starts a producer against a scripted endpoint, adds records, waits until they are stuck where
 * `script` keeps them, and closes it. Returns the records' outcomes, how long close() took, and
 * the active handles before the producer existed and after close() and its connections ended.
 */
async function closeWhileStuck(script: PutRecordsScript, config: Partial<ProducerConfig>) {
  server = await startScriptedKinesis(STREAM, script);
  const endpoint = server.endpoint;
  const before = activeResources();
  const producer = new KinesisProducer({
    streamName: STREAM,
    endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    metricsLevel: 'none',
    recordMaxBufferedTime: 10,
    ...config,
  });
  const deliveries = Array.from({ length: RECORDS }, (_, i) => producer.add({ partitionKey: `k${i}`, data: `record ${i}` }));
  for (const delivery of deliveries) delivery.catch(() => undefined);
  const local = server;
  await waitFor(() => local.putRecordsRequests > 0);
  // Let the first answer (or the wait for it) start, so records sit in a backoff or in flight.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const outstandingAtClose = producer.outstandingRecords;
  const closingStarted = performance.now();
  const closing = producer.close();
  const addWhileClosing = producer.add({ partitionKey: 'late', data: 'while closing' });
  addWhileClosing.catch(() => undefined);
  await closing;
  const closeMs = performance.now() - closingStarted;
  const outcomes = await Promise.allSettled(deliveries);
  await local.idle();
  // A socket just destroyed stays listed until libuv has closed it, a loop turn later.
  await waitFor(() => extraResources(before).length === 0, 2000).catch(() => undefined);
  const after = activeResources();
  const addAfterClose = producer.add({ partitionKey: 'late', data: 'after close' });
  addAfterClose.catch(() => undefined);
  return { producer, outcomes, closeMs, before, after, extra: extraResources(before), outstandingAtClose, addWhileClosing, addAfterClose };
}

/**
 * Every record held at close() failed with its attempts, the first with `firstErrorCode`; nothing
 * was left outstanding or left behind; add() during and after close() was refused.
 */
async function expectSettledByClose(run: Awaited<ReturnType<typeof closeWhileStuck>>, firstErrorCode: string): Promise<void> {
  expect(run.outstandingAtClose).toBe(RECORDS);
  expect(run.producer.outstandingRecords).toBe(0);
  for (const outcome of run.outcomes) {
    expect(outcome.status).toBe('rejected');
    const error = (outcome as PromiseRejectedResult).reason as UserRecordFailedError;
    expect(error).toBeInstanceOf(UserRecordFailedError);
    expect(error.attempts.length).toBeGreaterThanOrEqual(1);
    expect(error.attempts[0]).toMatchObject({ success: false, errorCode: firstErrorCode });
  }
  expect(run.extra).toEqual([]);
  await expect(run.addWhileClosing).rejects.toBeInstanceOf(ProducerClosedError);
  await expect(run.addAfterClose).rejects.toBeInstanceOf(ProducerClosedError);
}

describe('reliability: close()', () => {
  it('settles records waiting in a retry backoff, then leaves no timer or socket behind', async () => {
    const run = await closeWhileStuck('fail-every-record', { recordTtl: 3000, retry: { minDelayMs: 1000, maxDelayMs: 1000 } });
    console.log(
      `close() with ${run.outstandingAtClose} records in backoff took ${run.closeMs.toFixed(0)} ms; active handles before ${JSON.stringify(run.before)}, after ${JSON.stringify(run.after)}`,
    );

    await expectSettledByClose(run, 'InternalFailure');
  });

  it('settles records in flight against an endpoint that never answers, then leaves no timer or socket behind', async () => {
    const run = await closeWhileStuck('hang', { recordTtl: 1500, requestTimeout: 500 });
    console.log(
      `close() with ${run.outstandingAtClose} records in flight took ${run.closeMs.toFixed(0)} ms; active handles before ${JSON.stringify(run.before)}, after ${JSON.stringify(run.after)}`,
    );

    await expectSettledByClose(run, 'RequestTimeout');
  });
});
