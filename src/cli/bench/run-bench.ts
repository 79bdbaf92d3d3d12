import { KinesisProducer } from '../../producer.js';
import type { ProducerConfig } from '../../config.js';
import type { ProgressView } from './progress.js';
import { runPlainLoad } from './plain-load.js';
import { readProducerCounts } from './producer-counts.js';
import { runProducerLoad } from './producer-load.js';
import { readBack } from './read-back.js';
import { type BenchSummary, summarize } from './summary.js';
import type { BenchStream, BenchTarget } from './target.js';
import { RecordFactory, type Workload } from './workload.js';

/** The producer options a bench run sets; the sweep varies them. */
export interface ProducerSettings {
  readonly recordMaxBufferedTime: number;
  readonly aggregationEnabled: boolean;
  readonly aggregationMaxSize: number;
  readonly rateLimit: number;
  readonly adaptiveRateLimit: boolean;
  readonly maxConnections: number;
  readonly metricsLevel: 'none' | 'summary' | 'detailed';
}

/** One bench run: the workload, the producer's settings, and whether to read the stream back. */
export interface BenchRun {
  readonly workload: Workload;
  readonly settings: ProducerSettings;
  /** Read every record back and count what is missing. */
  readonly verify: boolean;
  readonly view: ProgressView;
  /** Aborted on SIGINT: the run stops offering and settles what it offered. */
  readonly signal: AbortSignal;
  /** Give the producer a durable spool in this directory (`kpl bench --spool`). */
  readonly spoolDirectory?: string;
}

/** Runs the workload through a KinesisProducer into `stream` and sums it up. */
export async function benchProducer(target: BenchTarget, stream: BenchStream, run: BenchRun, label = 'kinesis-kpl'): Promise<BenchSummary> {
  const { workload, settings } = run;
  const factory = new RecordFactory(workload.recordSize, workload.keys);
  const config: ProducerConfig = {
    streamName: stream.streamName,
    ...(target.endpoint !== undefined ? { endpoint: target.endpoint } : {}),
    ...(target.region !== undefined ? { region: target.region } : {}),
    ...(target.credentials !== undefined ? { credentials: target.credentials } : {}),
    ...settings,
    maxOutstandingRecords: workload.maxOutstandingRecords,
    ...(run.spoolDirectory !== undefined ? { spool: { directory: run.spoolDirectory } } : {}),
  };
  const producer = new KinesisProducer(config);
  let summary: BenchSummary;
  try {
    run.view.begin(label, goalOf(workload));
    const load = await runProducerLoad(
      producer,
      factory,
      workload,
      { onProgress: (p) => run.view.update(p), signal: run.signal },
      run.verify,
    );
    run.view.end();
    const counts = await readProducerCounts(producer.metrics);
    const attempts =
      counts.kinesisRecordsPut === undefined || counts.errors === undefined ? undefined : counts.kinesisRecordsPut + counts.errors;
    const checked = await verify(target, stream, factory, load.deliveredIndices, run.verify);
    const shardRates = Object.fromEntries(producer.shardRates().map((rate) => [rate.shardId, Math.round(rate.bytesPerSecond)]));
    summary = summarize(
      describe('kinesis-kpl', target, stream, workload, {
        recordMaxBufferedTime: settings.recordMaxBufferedTime,
        aggregation: settings.aggregationEnabled,
        aggregationMaxSize: settings.aggregationMaxSize,
        rateLimit: settings.rateLimit,
        adaptiveRateLimit: settings.adaptiveRateLimit,
        maxConnections: settings.maxConnections,
        maxOutstandingRecords: workload.maxOutstandingRecords,
        metricsLevel: settings.metricsLevel,
      }),
      load,
      { ...counts, attempts },
      checked,
      shardRates,
    );
  } finally {
    run.view.end();
    await producer.close();
  }
  return summary;
}

/** Runs the same workload through plain SDK PutRecords (no aggregation) into `stream`. */
export async function benchPlainPutRecords(
  target: BenchTarget,
  stream: BenchStream,
  run: BenchRun,
  concurrency: number,
): Promise<BenchSummary> {
  const { workload } = run;
  const factory = new RecordFactory(workload.recordSize, workload.keys);
  const client = target.client(concurrency);
  try {
    run.view.begin('plain PutRecords', goalOf(workload));
    const load = await runPlainLoad(
      client,
      stream.streamName,
      factory,
      workload,
      concurrency,
      { onProgress: (p) => run.view.update(p), signal: run.signal },
      run.verify,
    );
    run.view.end();
    const checked = await verify(target, stream, factory, load.deliveredIndices, run.verify);
    return summarize(
      describe('plain PutRecords', target, stream, workload, {
        concurrency,
        maxOutstandingRecords: workload.maxOutstandingRecords,
      }),
      load,
      {
        kinesisRecordsPut: load.kinesisRecordsPut,
        kinesisBytesPut: load.kinesisBytesPut,
        requests: load.requests,
        throttled: load.throttled,
        attempts: load.attempts,
      },
      checked,
    );
  } finally {
    run.view.end();
    client.destroy();
  }
}

function goalOf(workload: Workload): { seconds: number } | { records: number } {
  return workload.records !== undefined ? { records: workload.records } : { seconds: (workload.durationMs ?? 0) / 1000 };
}

function describe(
  mode: BenchSummary['mode'],
  target: BenchTarget,
  stream: BenchStream,
  workload: Workload,
  settings: Record<string, number | string | boolean>,
) {
  return {
    mode,
    target: target.description,
    shards: stream.shards,
    recordSize: workload.recordSize,
    keys: workload.keys,
    offeredRate: workload.rate,
    settings,
  };
}

async function verify(
  target: BenchTarget,
  stream: BenchStream,
  factory: RecordFactory,
  delivered: Uint8Array | undefined,
  wanted: boolean,
) {
  if (!wanted || delivered === undefined) return undefined;
  const client = target.client(4);
  try {
    return await readBack(client, stream.streamName, factory, delivered);
  } finally {
    client.destroy();
  }
}
