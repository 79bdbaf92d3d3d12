import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { SHARD_MAX_BYTES_PER_SECOND } from '../../format/limits.js';
import type { LocalKinesisStats } from '../../testing/stats.js';
import { stopChild } from '../../testing/stop-child.js';
import type { BenchSummary } from './summary.js';
import { CLI_ENTRY } from './target.js';

/** The message a writer sends once it is ready, and the one it waits for before it offers records. */
export const WRITER_READY = 'kpl-bench-writer-ready';
export const WRITER_START = 'kpl-bench-writer-start';

/** What `kpl bench --writers N` runs: N producer processes on one stream of an in-process local Kinesis. */
export interface WritersRun {
  readonly writers: number;
  readonly shards: number;
  /** Seconds each writer offers records. */
  readonly durationSeconds: number;
  /** `kpl bench` flags for every writer: the workload and the producer's settings. */
  readonly writerArgs: readonly string[];
  readonly signal: AbortSignal;
  /** Progress lines, or nothing. */
  readonly log: (line: string) => void;
}

/** A shard's figures over the measured window. */
export interface WritersShard {
  readonly shardId: string;
  /** Bytes stored per second against the shard's 1 MiB/s, in percent, over the measured window. */
  readonly byteLimitUsedPercent: number;
  /** The rate each writer's producer allowed this shard at the end, in percent of the shard's byte limit. */
  readonly finalRatePercent: ReadonlyArray<number | null>;
}

/** What `kpl bench --writers N --json` prints. */
export interface WritersSummary {
  readonly mode: 'writers';
  readonly writers: number;
  readonly shards: number;
  readonly durationSeconds: number;
  readonly records: number;
  readonly lost: number;
  /** Bytes the writers sent (stored, throttled or failed) for each byte the stream stored, over the whole run. */
  readonly bytesSentPerByteStored: number;
  /** Bytes sent per byte stored over the measured window only: after the writers found their shares. */
  readonly windowBytesSentPerByteStored: number;
  /** Kinesis records throttled, in percent of those sent, over the whole run. */
  readonly throttledPercent: number;
  /** Bytes stored per second against the stream's byte limit, over the measured window. */
  readonly byteLimitUsedPercent: number;
  /**
   * Seconds skipped at the start of the measured window, so that the writers' start does not count.
   * A shard saves up one second of allowance while idle, so the window may still include up to 1 MiB
   * a shard above its rate: 1/window of its limit.
   */
  readonly warmupSeconds: number;
  /** Each writer's share of the bytes stored, in percent. */
  readonly writerSharesPercent: readonly number[];
  /** Largest share over smallest. */
  readonly shareSpread: number;
  /** Records each writer offered per second: a writer short of CPU offers fewer. */
  readonly writerOfferedPerSecond: readonly number[];
  /** Each writer's CPU time in percent of its run (100 is one core). */
  readonly writerCpuPercent: readonly number[];
  /**
   * Share of each writer's run spent waiting on its producer's backpressure, in percent: near 100,
   * its shards' rates set its pace; lower, its CPU did, and its share says little about the limiter.
   */
  readonly writerHeldPercent: ReadonlyArray<number | null>;
  /** The machine's load average over 1 minute when the writers started and when they ended: the writers are CPU-sensitive. */
  readonly loadAverage: readonly [number, number];
  readonly shardStats: readonly WritersShard[];
  /** Each writer's own `kpl bench --json` summary. */
  readonly writerSummaries: readonly BenchSummary[];
}

const READY_TIMEOUT_MS = 60_000;
const KILL_AFTER_MS = 2_000;
const OUTPUT_KEPT_CHARS = 4_000;
/** Longest wait for the writers to settle after their offering ends: recordTtl and a margin. */
const SETTLE_TIMEOUT_MS = 60_000;

interface Writer {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
}

/**
 * Runs `writers` producer processes (the compiled `kpl bench`, each against `--endpoint` and
 * `--stream`) on one stream of a limits-enforcing local Kinesis that runs in this process, so that
 * what the stream stored and throttled is counted where it happens. The writers start together,
 * once all are ready; the shards' use is measured after a warm-up, so that the buckets' initial
 * burst and the writers' first shard-map loads do not count.
 */
export async function benchWriters(run: WritersRun): Promise<WritersSummary> {
  if (!existsSync(CLI_ENTRY)) {
    throw new Error(
      'kpl bench --writers runs each writer as a kpl process: run it from the build (npm run build; node dist/src/cli/main.js)',
    );
  }
  const { LocalKinesis } = await import('../../testing/index.js');
  const streamName = `kpl-bench-writers-${Date.now().toString(36)}`;
  const kinesis = await LocalKinesis.start({ streams: [{ name: streamName, shards: run.shards }] });
  const writers: Writer[] = [];
  try {
    const args = [
      'bench',
      '--endpoint',
      kinesis.endpoint,
      '--region',
      'us-east-1',
      '--stream',
      streamName,
      '--json',
      '--quiet',
      '--await-start',
      ...run.writerArgs,
    ];
    for (let i = 0; i < run.writers; i++) writers.push(startWriter(args));
    run.log(`kpl bench --writers ${run.writers}: waiting for ${run.writers} producer processes`);
    await Promise.race([
      Promise.all(writers.map((writer) => writer.ready)),
      sleep(READY_TIMEOUT_MS, undefined, { ref: false }).then(() => {
        throw new Error(`the writers were not ready within ${READY_TIMEOUT_MS} ms`);
      }),
      ...writers.map((writer, i) =>
        writer.exited.then((code) => {
          throw new Error(`writer ${i + 1} exited with code ${String(code)} before it started: ${writer.stderr().trim()}`);
        }),
      ),
    ]);
    kinesis.resetStats();
    const loadAtStart = loadavg()[0] ?? 0;
    for (const writer of writers) writer.child.send(WRITER_START);
    const startedAt = performance.now();
    const warmupSeconds = Math.min(5, run.durationSeconds / 3);
    run.log(`kpl bench --writers ${run.writers}: started; measuring the shards from ${warmupSeconds} s to ${run.durationSeconds} s`);
    await sleep(warmupSeconds * 1000, undefined, { signal: run.signal }).catch(() => undefined);
    const windowStart = kinesis.stats();
    const windowStartedAt = performance.now();
    await sleep(Math.max(0, startedAt + run.durationSeconds * 1000 - performance.now()), undefined, { signal: run.signal }).catch(
      () => undefined,
    );
    const windowEnd = kinesis.stats();
    const loadAverage: [number, number] = [round(loadAtStart, 2), round(loadavg()[0] ?? 0, 2)];
    const windowSeconds = (performance.now() - windowStartedAt) / 1000;
    if (run.signal.aborted) for (const writer of writers) writer.child.kill('SIGINT');
    const codes = await Promise.race([
      Promise.all(writers.map((writer) => writer.exited)),
      sleep(run.durationSeconds * 1000 + SETTLE_TIMEOUT_MS, undefined, { ref: false }).then(() => {
        throw new Error('the writers did not finish in time');
      }),
    ]);
    const summaries = writers.map((writer, i) => writerSummary(writer, i, codes[i] ?? null));
    return summarizeWriters(
      run,
      streamName,
      kinesis.stats(),
      { windowStart, windowEnd, windowSeconds, warmupSeconds, loadAverage },
      summaries,
    );
  } finally {
    await Promise.all(writers.map((writer) => stopChild(writer.child, KILL_AFTER_MS)));
    await kinesis.close();
  }
}

function startWriter(args: readonly string[]): Writer {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-OUTPUT_KEPT_CHARS);
  });
  const ready = new Promise<void>((resolve) => {
    const onMessage = (message: unknown): void => {
      if (message !== WRITER_READY) return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
  });
  const exited = once(child, 'close').then(([code]) => code as number | null);
  return { child, stdout: () => stdout, stderr: () => stderr, ready, exited };
}

function writerSummary(writer: Writer, index: number, code: number | null): BenchSummary {
  const lines = writer.stdout().trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1] ?? '') as BenchSummary;
  } catch {
    throw new Error(`writer ${index + 1} exited with code ${String(code)} without a summary: ${writer.stderr().trim()}`);
  }
}

/** What the bench measured besides the writers' own summaries. */
interface WritersWindow {
  readonly windowStart: LocalKinesisStats;
  readonly windowEnd: LocalKinesisStats;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  readonly loadAverage: readonly [number, number];
}

function summarizeWriters(
  run: WritersRun,
  streamName: string,
  total: LocalKinesisStats,
  { windowStart, windowEnd, windowSeconds, warmupSeconds, loadAverage }: WritersWindow,
  summaries: readonly BenchSummary[],
): WritersSummary {
  const stream = total.streams[streamName];
  const stored = stream?.acceptedBytes ?? 0;
  const sentRecords = (stream?.acceptedRecords ?? 0) + (stream?.throttledRecords ?? 0) + (stream?.failedRecords ?? 0);
  // A failed record's bytes are not counted by the server; they are as large as a stored one on average.
  const failedBytes = stream === undefined || stream.acceptedRecords === 0 ? 0 : stream.failedRecords * (stored / stream.acceptedRecords);
  const sent = stored + (stream?.throttledBytes ?? 0) + failedBytes;
  const shardIds = Object.keys(windowEnd.streams[streamName]?.shards ?? {}).sort();
  const shardStats = shardIds.map((shardId): WritersShard => {
    const bytes =
      (windowEnd.streams[streamName]?.shards[shardId]?.acceptedBytes ?? 0) -
      (windowStart.streams[streamName]?.shards[shardId]?.acceptedBytes ?? 0);
    return {
      shardId,
      byteLimitUsedPercent: round((bytes / windowSeconds / SHARD_MAX_BYTES_PER_SECOND) * 100, 1),
      finalRatePercent: summaries.map((summary) => {
        const rate = summary.shardRates?.[shardId];
        return rate === undefined ? null : round((rate / SHARD_MAX_BYTES_PER_SECOND) * 100, 1);
      }),
    };
  });
  const windowBytes = (windowEnd.streams[streamName]?.acceptedBytes ?? 0) - (windowStart.streams[streamName]?.acceptedBytes ?? 0);
  const windowThrottledBytes =
    (windowEnd.streams[streamName]?.throttledBytes ?? 0) - (windowStart.streams[streamName]?.throttledBytes ?? 0);
  const writerBytes = summaries.map((summary) => (summary.kinesisBytesPerSecond ?? 0) * summary.durationSeconds);
  const writerTotal = writerBytes.reduce((sum, bytes) => sum + bytes, 0);
  const shares = writerBytes.map((bytes) => (writerTotal === 0 ? 0 : round((bytes / writerTotal) * 100, 1)));
  const smallest = Math.min(...writerBytes);
  return {
    mode: 'writers',
    writers: run.writers,
    shards: run.shards,
    durationSeconds: run.durationSeconds,
    records: summaries.reduce((sum, summary) => sum + summary.records, 0),
    lost: summaries.reduce((sum, summary) => sum + summary.lost, 0),
    bytesSentPerByteStored: stored === 0 ? 0 : round(sent / stored, 3),
    windowBytesSentPerByteStored: windowBytes === 0 ? 0 : round((windowBytes + windowThrottledBytes) / windowBytes, 3),
    throttledPercent: sentRecords === 0 ? 0 : round(((stream?.throttledRecords ?? 0) / sentRecords) * 100, 1),
    byteLimitUsedPercent: round((windowBytes / windowSeconds / (run.shards * SHARD_MAX_BYTES_PER_SECOND)) * 100, 1),
    warmupSeconds,
    writerSharesPercent: shares,
    shareSpread: smallest === 0 ? Infinity : round(Math.max(...writerBytes) / smallest, 3),
    writerOfferedPerSecond: summaries.map((summary) =>
      summary.durationSeconds === 0 ? 0 : round(summary.records / summary.durationSeconds),
    ),
    writerCpuPercent: summaries.map((summary) => summary.cpuPercent),
    writerHeldPercent: summaries.map((summary) => summary.heldPercent),
    loadAverage,
    shardStats,
    writerSummaries: summaries,
  };
}

function round(value: number, digits = 0): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
