import { SHARD_MAX_BYTES_PER_SECOND } from '../../format/limits.js';
import type { LatencyPercentiles } from './latency.js';
import type { LoadResult } from './load-result.js';

/** What a read-back of the stream found. */
export interface ReadBack {
  /** Distinct records of this run found in the stream. */
  readonly found: number;
  /** Records whose add() resolved but that the stream does not hold. */
  readonly missing: number;
  /** Records found more than once (a retry after a lost answer stores a record twice). */
  readonly duplicates: number;
}

/** The outcome of one bench run, as `--json` prints it. */
export interface BenchSummary {
  /** 'kinesis-kpl' for the producer, 'plain PutRecords' for the SDK baseline. */
  readonly mode: 'kinesis-kpl' | 'plain PutRecords';
  readonly target: string;
  readonly shards: number;
  readonly recordSize: number;
  readonly keys: number;
  /** Offered records/s, or null for as fast as backpressure allows. */
  readonly offeredRate: number | null;
  /** Producer settings of this run (the sweep varies them). */
  readonly settings: Readonly<Record<string, number | string | boolean>>;
  /** From the first record offered to the last one settled. */
  readonly durationSeconds: number;
  /** User records offered. */
  readonly records: number;
  readonly delivered: number;
  /** Offered records that were not delivered: their promise rejected, or the read-back misses them. */
  readonly lost: number;
  readonly failuresByCode: Readonly<Record<string, number>>;
  /** Delivered user records per second. */
  readonly recordsPerSecond: number;
  readonly recordsPerSecondPerShard: number;
  /** Delivered user data bytes per second. */
  readonly bytesPerSecond: number;
  /** Bytes the shards accepted per second, data plus partition keys of the Kinesis records. */
  readonly kinesisBytesPerSecond: number | null;
  /** kinesisBytesPerSecond against the shards' byte limit (1 MiB/s each), in percent. */
  readonly byteLimitUsedPercent: number | null;
  readonly userRecordsPerKinesisRecord: number | null;
  readonly putRecordsPerSecond: number | null;
  /** Kinesis record attempts answered ProvisionedThroughputExceededException, in percent of all attempts. */
  readonly throttledPercent: number | null;
  /** From add() (or from creation, for plain PutRecords) to success. */
  readonly latencyMs: LatencyPercentiles;
  /** Highest resident set size of the bench process. */
  readonly peakRssBytes: number;
  /**
   * CPU time of the bench process during the run, in percent of the run's wall time (100 is one
   * core): writers that share a machine may get unequal CPU, and a writer short of it offers less.
   */
  readonly cpuPercent: number;
  /**
   * Share of the run in which the application waited on the producer's backpressure, in percent:
   * near 100, the producer's rate set the pace; well below, the application (its CPU) did. Null
   * for plain PutRecords.
   */
  readonly heldPercent: number | null;
  readonly readBack: ReadBack | null;
  /**
   * Bytes per second the producer allowed each shard (by shard ID) at the end of the run: the
   * adaptive rate each shard ended at; null for plain PutRecords.
   */
  readonly shardRates: Readonly<Record<string, number>> | null;
}

/** What the Kinesis side did in a run, from the producer's metrics or the plain loop's counts. */
export interface KinesisCounts {
  readonly kinesisRecordsPut: number | undefined;
  readonly kinesisBytesPut: number | undefined;
  readonly requests: number | undefined;
  readonly throttled: number | undefined;
  /** Kinesis record attempts, stored or not. */
  readonly attempts: number | undefined;
}

/** The run's description, apart from what it measured. */
export interface RunDescription {
  readonly mode: BenchSummary['mode'];
  readonly target: string;
  readonly shards: number;
  readonly recordSize: number;
  readonly keys: number;
  readonly offeredRate: number | undefined;
  readonly settings: Readonly<Record<string, number | string | boolean>>;
}

/** Puts a run's figures together. */
export function summarize(
  run: RunDescription,
  load: LoadResult,
  kinesis: KinesisCounts,
  readBack: ReadBack | undefined,
  shardRates: Readonly<Record<string, number>> | null = null,
): BenchSummary {
  const seconds = load.elapsedMs / 1000;
  const perSecond = (value: number | undefined): number | null => (value === undefined || seconds === 0 ? null : round(value / seconds));
  const kinesisBytesPerSecond = perSecond(kinesis.kinesisBytesPut);
  const lost = load.offered - load.delivered + (readBack?.missing ?? 0);
  return {
    mode: run.mode,
    target: run.target,
    shards: run.shards,
    recordSize: run.recordSize,
    keys: run.keys,
    offeredRate: run.offeredRate ?? null,
    settings: run.settings,
    durationSeconds: round(seconds, 2),
    records: load.offered,
    delivered: load.delivered,
    lost,
    failuresByCode: load.failuresByCode,
    recordsPerSecond: round(load.delivered / seconds),
    recordsPerSecondPerShard: round(load.delivered / seconds / run.shards),
    bytesPerSecond: round(load.deliveredBytes / seconds),
    kinesisBytesPerSecond,
    byteLimitUsedPercent:
      kinesisBytesPerSecond === null ? null : round((kinesisBytesPerSecond / (run.shards * SHARD_MAX_BYTES_PER_SECOND)) * 100, 1),
    userRecordsPerKinesisRecord:
      kinesis.kinesisRecordsPut === undefined || kinesis.kinesisRecordsPut === 0
        ? null
        : round(load.delivered / kinesis.kinesisRecordsPut, 1),
    putRecordsPerSecond: perSecond(kinesis.requests),
    throttledPercent:
      kinesis.throttled === undefined || kinesis.attempts === undefined
        ? null
        : round(kinesis.attempts === 0 ? 0 : (kinesis.throttled / kinesis.attempts) * 100, 1),
    latencyMs: load.latency.percentiles(),
    peakRssBytes: load.peakRssBytes,
    cpuPercent: load.cpuPercent,
    heldPercent: load.heldMs === null || load.elapsedMs === 0 ? null : round((load.heldMs / load.elapsedMs) * 100, 1),
    readBack: readBack ?? null,
    shardRates,
  };
}

function round(value: number, digits = 0): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

const count = (value: number): string => Math.round(value).toLocaleString('en-US');
const orDash = (value: number | null, format: (value: number) => string): string => (value === null ? '-' : format(value));
const megabytes = (bytes: number): string => `${(bytes / 1_048_576).toFixed(2)} MiB`;

/** The summary of one or more runs as an aligned table, one column per run. */
export function formatSummaries(summaries: readonly BenchSummary[]): string {
  return table(summaryRows(summaries.some((s) => s.readBack !== null)), [...summaries]);
}

/** A sweep's points, one row each. */
export function formatSweep(points: ReadonlyArray<{ name: string; summary: BenchSummary }>): string {
  const header = ['setting', 'records/s', 'byte limit', 'per Kinesis record', 'p50 ms', 'p99 ms', 'lost'];
  const rows = points.map(({ name, summary: s }) => [
    name,
    count(s.recordsPerSecond),
    orDash(s.byteLimitUsedPercent, (v) => `${v.toFixed(1)} %`),
    orDash(s.userRecordsPerKinesisRecord, (v) => v.toFixed(1)),
    count(s.latencyMs.p50),
    count(s.latencyMs.p99),
    count(s.lost),
  ]);
  return align([header, ...rows]);
}

function summaryRows(withReadBack: boolean): Array<[string, (s: BenchSummary) => string]> {
  const rows: Array<[string, (s: BenchSummary) => string]> = [
    ['', (s) => s.mode],
    ['records offered', (s) => count(s.records)],
    ['records lost', (s) => count(s.lost)],
    ['duration', (s) => `${s.durationSeconds.toFixed(1)} s`],
    ['user records/s', (s) => count(s.recordsPerSecond)],
    ['  per shard', (s) => count(s.recordsPerSecondPerShard)],
    ['user data', (s) => `${megabytes(s.bytesPerSecond)}/s`],
    ['shard byte limit used', (s) => orDash(s.byteLimitUsedPercent, (v) => `${v.toFixed(1)} %`)],
    ['user records/Kinesis record', (s) => orDash(s.userRecordsPerKinesisRecord, (v) => v.toFixed(1))],
    ['PutRecords calls/s', (s) => orDash(s.putRecordsPerSecond, count)],
    ['throttled', (s) => orDash(s.throttledPercent, (v) => `${v.toFixed(1)} %`)],
    ['latency p50 / p90 / p99', (s) => `${count(s.latencyMs.p50)} / ${count(s.latencyMs.p90)} / ${count(s.latencyMs.p99)} ms`],
    ['peak RSS', (s) => megabytes(s.peakRssBytes)],
    ['CPU', (s) => `${s.cpuPercent.toFixed(0)} % of a core`],
    ['held by backpressure', (s) => orDash(s.heldPercent, (v) => `${v.toFixed(0)} % of the run`)],
  ];
  rows.push([
    'final shard rates',
    (s) =>
      s.shardRates === null
        ? '-'
        : Object.values(s.shardRates)
            .map((rate) => `${((rate / SHARD_MAX_BYTES_PER_SECOND) * 100).toFixed(0)} %`)
            .join(' '),
  ]);
  if (withReadBack) {
    rows.push([
      'read back',
      (s) =>
        s.readBack === null
          ? '-'
          : `${count(s.readBack.found)} found, ${count(s.readBack.missing)} missing, ${count(s.readBack.duplicates)} twice`,
    ]);
  }
  return rows;
}

function table(rows: Array<[string, (s: BenchSummary) => string]>, summaries: BenchSummary[]): string {
  return align(rows.map(([label, cell]) => [label, ...summaries.map(cell)]));
}

/** Left-aligns the first column and right-aligns the others. */
function align(cells: string[][]): string {
  const widths = (cells[0] as string[]).map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row.map((cell, column) => (column === 0 ? cell.padEnd(widths[0] as number) : cell.padStart(widths[column] as number))).join('   '),
    )
    .join('\n');
}
