/**
 * Metrics on the hot path, two ways.
 *
 * End to end: the same producer workload with metricsLevel 'none' and 'detailed' (at shard
 * granularity, the most labels), rounds interleaved in one run, against the fast non-storing
 * endpoint in its own process, so that the producer's CPU is what is measured. The figures are
 * medians over rounds of delivered records per second and CPU microseconds per record.
 *
 * Directly: what ProducerMetrics itself costs per user record (recordReceived, and its share of
 * requestCompleted for a request of 10 aggregates of 400 records), in nanoseconds, to set against
 * the producer's CPU per record. On a busy machine this is the steadier of the two figures.
 *
 *   npm run build && node dist/bench/metrics.js
 */
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { ProducerMetrics } from '../src/metrics.js';
import { PendingRecord } from '../src/pending-record.js';
import type { ClosedAggregate } from '../src/pipeline/aggregator.js';
import { KinesisProducer } from '../src/producer.js';
import type { RequestReport } from '../src/pipeline/observer.js';
import { runProducerLoad } from '../src/cli/bench/producer-load.js';
import { RecordFactory } from '../src/cli/bench/workload.js';
import { startFastKinesis } from './support/fast-kinesis.js';
import { median } from './support/median.js';

/** Figures of one metrics level: medians over rounds. */
export interface MetricsLevelResult {
  level: 'none' | 'detailed';
  recordsPerSecond: number;
  cpuMicrosecondsPerRecord: number;
}

/** Both levels, and detailed against none from the same run. */
export interface MetricsBenchResult {
  records: number;
  rounds: number;
  levels: MetricsLevelResult[];
  /** detailed records/s divided by none records/s; 1 means no cost. */
  throughputRatio: number;
  /** detailed CPU per record divided by none CPU per record. */
  cpuRatio: number;
  /** What ProducerMetrics costs per user record at level 'detailed', measured directly (median of rounds). */
  metricsNanosecondsPerRecord: number;
}

/** Options of {@link runMetricsBench}. */
export interface MetricsBenchOptions {
  /** Records per round. @default 200000 */
  records?: number;
  /** Rounds of each level, interleaved. @default 5 */
  rounds?: number;
}

const SHARDS = 4;
const RECORD_BYTES = 100;
const KEYS = 1000;

/** Runs the benchmark and returns its figures; prints nothing. */
export async function runMetricsBench(options: MetricsBenchOptions = {}): Promise<MetricsBenchResult> {
  const records = options.records ?? 200_000;
  const rounds = options.rounds ?? 5;
  const server = await startFastKinesis({ shards: SHARDS });
  const samples: Record<MetricsLevelResult['level'], Array<{ rate: number; cpu: number }>> = { none: [], detailed: [] };
  try {
    // A warm-up round of each level, not counted: the JIT and the sockets settle.
    for (const level of ['none', 'detailed'] as const) await runRound(server.endpoint, level, Math.min(records, 50_000));
    for (let round = 0; round < rounds; round++) {
      for (const level of round % 2 === 0 ? (['none', 'detailed'] as const) : (['detailed', 'none'] as const)) {
        samples[level].push(await runRound(server.endpoint, level, records));
      }
    }
  } finally {
    await server.stop();
  }
  const levels = (['none', 'detailed'] as const).map((level) => ({
    level,
    recordsPerSecond: Math.round(median(samples[level].map((s) => s.rate))),
    cpuMicrosecondsPerRecord: Math.round(median(samples[level].map((s) => s.cpu)) * 100) / 100,
  }));
  const [none, detailed] = levels as [MetricsLevelResult, MetricsLevelResult];
  return {
    records,
    rounds,
    levels,
    throughputRatio: Math.round((detailed.recordsPerSecond / none.recordsPerSecond) * 1000) / 1000,
    cpuRatio: Math.round((detailed.cpuMicrosecondsPerRecord / none.cpuMicrosecondsPerRecord) * 1000) / 1000,
    metricsNanosecondsPerRecord: Math.round(median(Array.from({ length: rounds }, () => metricsCostPerRecord())) * 10) / 10,
  };
}

const AGGREGATES_PER_REQUEST = 10;
const RECORDS_PER_AGGREGATE = 400;
const REQUESTS_PER_ROUND = 500;

/** Nanoseconds per user record of recordReceived and requestCompleted at level 'detailed', shard granularity. */
function metricsCostPerRecord(): number {
  const metrics = new ProducerMetrics({ registry: new Registry(), level: 'detailed', granularity: 'shard', pending: () => 0 });
  const now = performance.now();
  const entries: Array<ClosedAggregate<PendingRecord>> = Array.from({ length: AGGREGATES_PER_REQUEST }, (_, shard) => ({
    shard: shard % SHARDS,
    size: 50_000,
    oldestAt: now,
    expiresAt: now + 30_000,
    record: { partitionKey: 'a', explicitHashKey: '0', data: new Uint8Array(50_000) },
    items: Array.from(
      { length: RECORDS_PER_AGGREGATE },
      () => new PendingRecord({ partitionKey: 'k', data: '' }, new Uint8Array(RECORD_BYTES), now - 50, 0, () => {}, RECORD_BYTES + 1),
    ),
  }));
  const report: RequestReport = {
    stream: 'bench',
    entries,
    outcomes: entries.map((entry) => ({ shardId: `shardId-00000000000${entry.shard}`, sequenceNumber: '1' })),
    errorCode: undefined,
    sentAt: now,
    durationMs: 40,
    shardIdOf: (entry) => `shardId-00000000000${entry.shard}`,
  };
  const recordsPerRequest = AGGREGATES_PER_REQUEST * RECORDS_PER_AGGREGATE;
  const start = performance.now();
  for (let request = 0; request < REQUESTS_PER_ROUND; request++) {
    for (let i = 0; i < recordsPerRequest; i++) metrics.recordReceived('bench');
    metrics.requestCompleted(report);
  }
  return ((performance.now() - start) * 1e6) / (REQUESTS_PER_ROUND * recordsPerRequest);
}

async function runRound(endpoint: string, level: 'none' | 'detailed', records: number): Promise<{ rate: number; cpu: number }> {
  const producer = new KinesisProducer({
    streamName: 'bench',
    endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    // The fast endpoint has no shard limits: the producer's own limiter must not be what is measured.
    rateLimit: 10_000,
    metricsLevel: level,
    metricsGranularity: 'shard',
    maxOutstandingRecords: 50_000,
  });
  const factory = new RecordFactory(RECORD_BYTES, KEYS);
  const cpuBefore = process.cpuUsage();
  try {
    const result = await runProducerLoad(producer, factory, {
      recordSize: RECORD_BYTES,
      keys: KEYS,
      records,
      durationMs: undefined,
      rate: undefined,
      maxOutstandingRecords: 50_000,
    });
    if (level === 'detailed') await producer.metrics.metrics();
    const cpu = process.cpuUsage(cpuBefore);
    return { rate: result.delivered / (result.elapsedMs / 1000), cpu: (cpu.user + cpu.system) / result.delivered };
  } finally {
    await producer.close();
  }
}

/** The figures as the table BENCHMARKS.md shows. */
export function formatMetricsBench(result: MetricsBenchResult): string {
  return [
    `metricsLevel   records/s   CPU µs/record   (${result.records.toLocaleString('en-US')} records x ${result.rounds} rounds, medians)`,
    ...result.levels.map(
      (l) =>
        `${l.level.padEnd(12)} ${l.recordsPerSecond.toLocaleString('en-US').padStart(11)}   ${l.cpuMicrosecondsPerRecord.toFixed(2).padStart(13)}`,
    ),
    `detailed / none: throughput x${result.throughputRatio.toFixed(3)}, CPU per record x${result.cpuRatio.toFixed(3)}`,
    `ProducerMetrics itself, level detailed: ${result.metricsNanosecondsPerRecord.toFixed(1)} ns per user record`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatMetricsBench(await runMetricsBench()));
}
