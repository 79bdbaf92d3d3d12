import { setTimeout as sleep } from 'node:timers/promises';
import { KinesisProducer } from '../../producer.js';
import type { CliIo } from '../io.js';
import { localCredentials } from '../options.js';
import { CheckpointError, type CheckpointEntry, loadCheckpoint, pruneEntries, saveCheckpoint } from './checkpoint-store.js';
import type { FlowSpec } from './flow.js';
import { FlowTailer } from './flow-tailer.js';
import { DEFAULT_TIMING } from './tail-timing.js';
import { serveMetrics, type MetricsServer } from './metrics-server.js';
import { progressLine } from './progress.js';
import { RecordDelivery } from './record-delivery.js';
import { registerTailMetrics } from './tail-metrics.js';
import { TailStats } from './tail-stats.js';

/** What `kpl tail` runs. */
export interface TailRun {
  readonly flows: readonly FlowSpec[];
  readonly endpoint?: string;
  readonly region?: string;
  /** A durable disk spool: lines count as delivered (and checkpointed) once it holds them; a restart with it delivers what it holds. */
  readonly spool?: string;
  /** The checkpoint file; without it, every start follows `from`. */
  readonly checkpoint?: string;
  /** Serves /metrics on 127.0.0.1 at this port (0: any free port). */
  readonly metricsPort?: number;
  /** The producer's requestTimeout: SIGTERM exits within it plus a second. @default 6000 */
  readonly requestTimeout?: number;
  /** How often the progress line is printed. @default 30000 */
  readonly progressIntervalMs?: number;
}

/** How often the patterns are listed again. */
const SCAN_MS = 250;
/** How long the tailer sleeps when every file is read to its end. */
const POLL_MS = 100;
/** The checkpoint is written at least this often while anything changes. */
const CHECKPOINT_MS = 1000;
/** Records' bytes held in memory at most before reading pauses. */
const MAX_OUTSTANDING_BYTES = 64 * 1024 * 1024;
/**
 * Records read ahead of delivery at most, as `kpl send` bounds it: 20,000 small records fill the
 * producer's next requests, and more only keep records alive through garbage collections.
 */
const MAX_OUTSTANDING_RECORDS = 20_000;

/**
 * Follows the flows' files until SIGTERM or SIGINT, then sends what was read for at most
 * requestTimeout, writes the checkpoint of what was stored, and resolves with the exit code.
 */
export async function runTail(run: TailRun, io: CliIo): Promise<number> {
  const log = (message: string): void => {
    io.stderr.write(`kpl tail: ${message}\n`);
  };
  let restored: CheckpointEntry[] | undefined;
  try {
    restored = run.checkpoint === undefined ? undefined : await loadCheckpoint(run.checkpoint);
  } catch (error) {
    log(error instanceof CheckpointError ? error.message : `cannot read the checkpoint: ${(error as Error).message}`);
    return 2;
  }
  const requestTimeout = run.requestTimeout ?? 6000;
  const credentials = localCredentials(run.endpoint, io.env);
  const producer = new KinesisProducer({
    streamName: (run.flows[0] as FlowSpec).stream,
    ...(run.endpoint !== undefined ? { endpoint: run.endpoint } : {}),
    ...(run.region !== undefined ? { region: run.region } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    requestTimeout,
    maxOutstandingRecords: MAX_OUTSTANDING_RECORDS,
    maxOutstandingBytes: MAX_OUTSTANDING_BYTES,
    metricsLevel: run.metricsPort === undefined ? 'none' : 'summary',
    ...(run.spool !== undefined
      ? { spool: { directory: run.spool, onFailure: (error) => log(`a spooled record failed for good: ${error.message}`) } }
      : {}),
  });
  const stats = new TailStats(log);
  const stop = new AbortController();
  const delivery = new RecordDelivery(
    producer,
    { maxRecords: MAX_OUTSTANDING_RECORDS, maxBytes: MAX_OUTSTANDING_BYTES },
    log,
    stop.signal,
    run.spool !== undefined,
  );
  const flowNames = new Set(run.flows.map((flow) => flow.name));
  const tailers = run.flows.map(
    (flow) =>
      new FlowTailer(flow, delivery, stats, restored === undefined ? undefined : restored.filter((entry) => entry.flow === flow.name), {
        timing: DEFAULT_TIMING,
      }),
  );
  // Entries of flows no longer configured stay until their TTL, so that a flow taken out for a while resumes.
  const otherFlows = (restored ?? []).filter((entry) => !flowNames.has(entry.flow));

  let checkpointAt = Date.now();
  let saved = '';
  let checkpointFailing = false;
  const checkpoint = async (): Promise<void> => {
    if (run.checkpoint === undefined) return;
    const now = Date.now();
    const entries = [...tailers.flatMap((tailer) => tailer.checkpointEntries()), ...pruneEntries(otherFlows, now, DEFAULT_TIMING.ttlMs)];
    const text = JSON.stringify(entries);
    try {
      if (text !== saved) await saveCheckpoint(run.checkpoint, entries);
      saved = text;
      checkpointAt = now;
      if (checkpointFailing) log(`the checkpoint ${run.checkpoint} is written again`);
      checkpointFailing = false;
    } catch (error) {
      if (!checkpointFailing) log(`cannot write the checkpoint ${run.checkpoint}: ${(error as Error).message}; trying again every second`);
      checkpointFailing = true;
    }
  };
  const behind = (): Array<{ flow: string; path: string; bytes: number }> =>
    tailers.flatMap((tailer) => tailer.bytesBehind().map((file) => ({ flow: tailer.spec.name, ...file })));

  let metrics: MetricsServer | undefined;
  if (run.metricsPort !== undefined) {
    registerTailMetrics(producer.metrics, {
      flows: stats.flows,
      bytesBehind: behind,
      ...(run.checkpoint !== undefined ? { checkpointAgeSeconds: () => (Date.now() - checkpointAt) / 1000 } : {}),
    });
    try {
      metrics = await serveMetrics(producer.metrics, run.metricsPort);
      log(`metrics at ${metrics.url}`);
    } catch (error) {
      log(`cannot serve metrics on 127.0.0.1:${run.metricsPort}: ${(error as Error).message}`);
      await producer.close();
      return 2;
    }
  }

  const stopListening = io.onStopSignal((signal) => {
    if (stop.signal.aborted) return;
    log(`${signal}: sending what was read, then writing the checkpoint`);
    stop.abort();
  });
  const stopped = (): boolean => stop.signal.aborted;
  const progress = setInterval(
    () => log(progressLine(stats.linesRead, delivery, behind(), run.spool !== undefined)),
    run.progressIntervalMs ?? 30_000,
  );
  const checkpoints = (async () => {
    while (!stopped()) {
      await sleep(CHECKPOINT_MS, undefined, { signal: stop.signal }).catch(() => undefined);
      if (!stopped()) await checkpoint();
    }
  })();

  log(`following ${run.flows.map((flow) => flow.patterns.join(' ')).join(', ')}`);
  let scannedAt = 0;
  while (!stopped()) {
    if (Date.now() - scannedAt >= SCAN_MS) {
      scannedAt = Date.now();
      for (const tailer of tailers) await tailer.scan();
    }
    let more = false;
    for (const tailer of tailers) if (await tailer.read(stopped)) more = true;
    if (!more) await sleep(POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
    else await new Promise((resolve) => setImmediate(resolve));
  }

  clearInterval(progress);
  await checkpoints;
  await within(delivery.settled(), requestTimeout);
  delivery.stop();
  await checkpoint();
  for (const tailer of tailers) await tailer.close();
  await within(producer.close(), 250);
  await metrics?.close();
  stopListening();
  log(progressLine(stats.linesRead, delivery, behind(), run.spool !== undefined));
  return 0;
}

/** Waits for `promise`, or `ms` at most; the timer does not outlive the wait. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  const timeout = new AbortController();
  await Promise.race([
    promise.catch(() => undefined).finally(() => timeout.abort()),
    sleep(ms, undefined, { signal: timeout.signal }).catch(() => undefined),
  ]);
}
