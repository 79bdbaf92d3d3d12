import { CONFIG_RULES } from '../../config.js';
import type { ProducerSettings } from './run-bench.js';
import type { Workload } from './workload.js';

/** `kpl bench`'s options as commander parses them. */
export interface BenchOptions {
  readonly shards: number;
  readonly recordSize: number;
  readonly keys: number;
  readonly duration?: number;
  readonly records?: number;
  readonly rate?: number;
  readonly endpoint?: string;
  readonly stream?: string;
  readonly region?: string;
  readonly sweep: boolean;
  readonly out?: string;
  readonly json: boolean;
  readonly comparePlain: boolean;
  readonly verify: boolean;
  readonly linger: number;
  readonly aggregation: boolean;
  readonly aggregationMaxSize: number;
  readonly rateLimit: number;
  readonly adaptiveRateLimit: boolean;
  readonly maxConnections: number;
  readonly maxOutstanding?: number;
  readonly metricsLevel: ProducerSettings['metricsLevel'];
  readonly inProcess: boolean;
  readonly quiet: boolean;
  readonly writers?: number;
  readonly awaitStart: boolean;
  readonly spool?: string;
}

/** Seconds a run offers records unless --duration or --records says otherwise. */
export const DEFAULT_DURATION_SECONDS = 12;
/** Seconds each --sweep point offers records unless --duration says otherwise. */
export const DEFAULT_SWEEP_POINT_SECONDS = 4;
/** Backpressure per shard: enough records in flight to fill a shard, few enough that queueing stays under a second. */
export const OUTSTANDING_RECORDS_PER_SHARD = 3_000;
/** Where --sweep writes its chart unless --out says otherwise. */
export const DEFAULT_SWEEP_OUT = 'kpl-sweep.html';
/** The producer's rateLimit default, which --writers uses unless --rate-limit is given. */
export const PRODUCER_DEFAULT_RATE_LIMIT = CONFIG_RULES.rateLimit.default;

/** The producer settings the options give, before a sweep point overrides some of them. */
export function producerSettingsOf(options: BenchOptions): ProducerSettings {
  return {
    recordMaxBufferedTime: options.linger,
    aggregationEnabled: options.aggregation,
    aggregationMaxSize: options.aggregationMaxSize,
    rateLimit: options.rateLimit,
    adaptiveRateLimit: options.adaptiveRateLimit,
    maxConnections: options.maxConnections,
    metricsLevel: options.metricsLevel,
  };
}

/** The workload a run offers: the options' records or duration (else `defaultSeconds`), at `rate`. */
export function workloadOf(options: BenchOptions, shards: number, defaultSeconds: number, rate: number | undefined): Workload {
  return {
    recordSize: options.recordSize,
    keys: options.keys,
    records: options.records,
    durationMs: options.records === undefined ? (options.duration ?? defaultSeconds) * 1000 : undefined,
    rate,
    maxOutstandingRecords: options.maxOutstanding ?? shards * OUTSTANDING_RECORDS_PER_SHARD,
  };
}

/** The workload in words, for the line a run starts with. */
export function describeWorkload(workload: Workload, shards: number): string {
  const length =
    workload.records !== undefined ? `${workload.records.toLocaleString('en-US')} records` : `${(workload.durationMs ?? 0) / 1000} s`;
  const rate =
    workload.rate === undefined ? 'as fast as backpressure allows' : `${workload.rate.toLocaleString('en-US')} records/s offered`;
  return `${shards} shards, ${workload.recordSize.toLocaleString('en-US')} B records, ${workload.keys.toLocaleString('en-US')} keys, ${length}, ${rate}`;
}
