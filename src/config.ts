import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Registry } from 'prom-client';
import { LARGEST_RECORD_BYTES, MAX_BYTES_PER_PUT_RECORDS, MAX_RECORD_BYTES, MAX_RECORDS_PER_PUT_RECORDS } from './format/limits.js';
import { describeValue } from './describe-value.js';
import {
  boolean,
  checkRule,
  choice,
  configError,
  free,
  type NumberRule,
  number,
  optionalNumber,
  optionalString,
  rejectUnknownKeys,
  type Rule,
} from './config-rules.js';
import { resolveSpool, type ResolvedSpoolConfig, type SpoolConfig } from './spool-config.js';

export type { ResolvedSpoolConfig, SpoolConfig } from './spool-config.js';

/** Where the producer writes log lines. Any object with these methods works, `console` included. */
export interface Logger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** Backoff of retried records: exponential from `minDelayMs`, capped at `maxDelayMs`, with full jitter. */
export interface RetryOptions {
  /** First retry's upper delay bound in ms. @default 100 (range 1 to 60,000) */
  readonly minDelayMs?: number;
  /** Largest delay between two attempts in ms. @default 5000 (range 1 to 600,000) */
  readonly maxDelayMs?: number;
}

/**
 * Options of a {@link KinesisProducer}. The KPL's names in camelCase with the KPL's defaults,
 * unless a field says otherwise. Unknown or out-of-range options throw a ValidationError.
 */
export interface ProducerConfig {
  /** The stream to write to. One of `streamName` and `streamARN` is required. */
  readonly streamName?: string;
  /** The stream's ARN; used instead of `streamName` in every request when given. */
  readonly streamARN?: string;
  /** AWS region. @default AWS_REGION or AWS_DEFAULT_REGION from the environment; 'us-east-1' when only `endpoint` is given */
  readonly region?: string;
  /** Endpoint URL, e.g. a local Kinesis. Plain `http://` is used only when given here. */
  readonly endpoint?: string;
  /** Credentials or a provider. @default the SDK's default chain */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** A ready client; region, endpoint, credentials, maxConnections, requestTimeout and http2 are then its own. */
  readonly client?: KinesisClient;
  /** Pack several user records into one Kinesis record (KPL format). @default true */
  readonly aggregationEnabled?: boolean;
  /** Most user records in one aggregate. @default 4294967295 (range 1 to 4294967295) */
  readonly aggregationMaxCount?: number;
  /** Largest aggregate in bytes, counting its partition key. @default 51200 (range 64 to 1048576) */
  readonly aggregationMaxSize?: number;
  /** Most Kinesis records in one PutRecords request. @default 500 (range 1 to 500) */
  readonly collectionMaxCount?: number;
  /** Largest PutRecords request in bytes of data and partition keys. @default 5242880 (range 52224 to 5242880) */
  readonly collectionMaxSize?: number;
  /** Longest time in ms a record waits in the buffers before it is sent. @default 100 (range 1 to 600,000) */
  readonly recordMaxBufferedTime?: number;
  /** Time in ms after add() by which a record must be put, or it fails as expired. @default 30000 (range 100 to 86,400,000) */
  readonly recordTtl?: number;
  /** Most PutRecords requests in flight (and HTTP sockets). @default 24 (range 1 to 256) */
  readonly maxConnections?: number;
  /** Time in ms after which a request is aborted and counted as failed. @default 6000 (range 100 to 600,000) */
  readonly requestTimeout?: number;
  /** Per-shard rate limit as a percentage of the shard's write limits (1,000 records/s, 1 MiB/s). @default 150 (range 1 to 10,000) */
  readonly rateLimit?: number;
  /** Fail a record at its first throttling instead of retrying it. @default false */
  readonly failIfThrottled?: boolean;
  /**
   * Let each shard's rate adapt: throttling lowers that shard's rate, throttle-free time raises it
   * again, up to rateLimit %; other shards are not affected. Several producers writing to one
   * stream then share it with little throttling. false keeps every shard at rateLimit %.
   * @default true
   */
  readonly adaptiveRateLimit?: boolean;
  /**
   * Largest record in bytes, data plus partition key, that the stream takes: its
   * MaxRecordSizeInKiB × 1,024. Give it where DescribeStreamSummary is denied and the stream takes
   * more than 1 MiB; the producer then does not call DescribeStreamSummary.
   * @default the stream's MaxRecordSizeInKiB from DescribeStreamSummary, 1,048,576 where that call is denied (range 1,048,576 to 10,485,760)
   */
  readonly maxRecordSize?: number;
  /** Most records accepted and not yet settled; add() beyond it rejects with BufferFullError. @default 150000 (range 1 to 100,000,000) */
  readonly maxOutstandingRecords?: number;
  /** Most payload bytes (data + partition keys) accepted and not yet settled. @default 67108864, 64 MiB (range 1,048,576 to 17,179,869,184) */
  readonly maxOutstandingBytes?: number;
  /** Backoff of retries. */
  readonly retry?: RetryOptions;
  /** A durable disk spool for accepted records; off when absent. */
  readonly spool?: SpoolConfig;
  /** Compression of aggregates' payload. 'lz4' cannot be read by the KCL, only by this package's deaggregate(). @default 'none' */
  readonly compression?: 'none' | 'lz4';
  /** Keep each partition key's order: one request in flight per shard, retried records ahead of later ones. @default false */
  readonly strictOrdering?: boolean;
  /** Talk HTTP/2 instead of HTTP/1.1 with keep-alive. @default false */
  readonly http2?: boolean;
  /** Which metrics are kept. @default 'detailed' */
  readonly metricsLevel?: 'none' | 'summary' | 'detailed';
  /** Which labels metrics carry. @default 'shard' */
  readonly metricsGranularity?: 'global' | 'stream' | 'shard';
  /** The prom-client registry metrics are registered in. @default a new Registry */
  readonly metricsRegistry?: Registry;
  /** Where log lines go. @default none */
  readonly logger?: Logger;
}

/** A ProducerConfig with every default applied and every value checked. */
export interface ResolvedConfig {
  readonly stream: { readonly streamName?: string; readonly streamARN?: string };
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
  readonly client: KinesisClient | undefined;
  readonly aggregationEnabled: boolean;
  readonly aggregationMaxCount: number;
  readonly aggregationMaxSize: number;
  readonly collectionMaxCount: number;
  readonly collectionMaxSize: number;
  readonly recordMaxBufferedTime: number;
  readonly recordTtl: number;
  readonly maxConnections: number;
  readonly requestTimeout: number;
  readonly rateLimit: number;
  readonly failIfThrottled: boolean;
  readonly adaptiveRateLimit: boolean;
  readonly maxRecordSize: number | undefined;
  readonly maxOutstandingRecords: number;
  readonly maxOutstandingBytes: number;
  readonly retry: { readonly minDelayMs: number; readonly maxDelayMs: number };
  readonly spool: ResolvedSpoolConfig | undefined;
  readonly compression: 'none' | 'lz4';
  readonly strictOrdering: boolean;
  readonly http2: boolean;
  readonly metricsLevel: 'none' | 'summary' | 'detailed';
  readonly metricsGranularity: 'global' | 'stream' | 'shard';
  readonly metricsRegistry: Registry | undefined;
  readonly logger: Logger | undefined;
}

/** Every option: its default and its range, in one table. */
export const CONFIG_RULES = {
  streamName: free,
  streamARN: free,
  region: free,
  endpoint: free,
  credentials: free,
  client: free,
  aggregationEnabled: boolean(true),
  aggregationMaxCount: number(4294967295, 1, 4294967295),
  aggregationMaxSize: number(51200, 64, MAX_RECORD_BYTES),
  collectionMaxCount: number(MAX_RECORDS_PER_PUT_RECORDS, 1, MAX_RECORDS_PER_PUT_RECORDS),
  collectionMaxSize: number(MAX_BYTES_PER_PUT_RECORDS, 52224, MAX_BYTES_PER_PUT_RECORDS),
  recordMaxBufferedTime: number(100, 1, 600_000),
  recordTtl: number(30_000, 100, 86_400_000),
  maxConnections: number(24, 1, 256),
  requestTimeout: number(6000, 100, 600_000),
  rateLimit: number(150, 1, 10_000),
  failIfThrottled: boolean(false),
  adaptiveRateLimit: boolean(true),
  maxRecordSize: optionalNumber(MAX_RECORD_BYTES, LARGEST_RECORD_BYTES),
  maxOutstandingRecords: number(150_000, 1, 100_000_000),
  maxOutstandingBytes: number(64 * 1024 * 1024, 1024 * 1024, 16 * 1024 * 1024 * 1024),
  retry: free,
  spool: free,
  compression: choice('none', ['none', 'lz4']),
  strictOrdering: boolean(false),
  http2: boolean(false),
  metricsLevel: choice('detailed', ['none', 'summary', 'detailed']),
  metricsGranularity: choice('shard', ['global', 'stream', 'shard']),
  metricsRegistry: free,
  logger: free,
} as const satisfies Record<keyof ProducerConfig, Rule>;

const RETRY_RULES = {
  minDelayMs: number(100, 1, 60_000),
  maxDelayMs: number(5000, 1, 600_000),
} as const satisfies Record<keyof RetryOptions, NumberRule>;

/** Applies defaults and checks every option; throws a ValidationError naming the option, its problem and the limit. */
export function resolveConfig(config: ProducerConfig): ResolvedConfig {
  if (config === null || typeof config !== 'object') {
    throw configError('config', `config must be an object, got ${describeValue(config)}`);
  }
  rejectUnknownKeys(config, Object.keys(CONFIG_RULES), '');
  const options = config as Record<string, unknown>;
  const read = <K extends keyof typeof CONFIG_RULES>(key: K): unknown => checkRule(key, CONFIG_RULES[key], options[key]);

  const streamName = optionalString(options, 'streamName');
  const streamARN = optionalString(options, 'streamARN');
  if (streamName === undefined && streamARN === undefined) {
    throw configError('streamName', 'streamName or streamARN is required');
  }
  const endpoint = optionalString(options, 'endpoint');
  if (endpoint !== undefined) checkEndpoint(endpoint);
  const client = options['client'];
  if (client !== undefined && (client === null || typeof (client as { send?: unknown }).send !== 'function')) {
    throw configError('client', `client must be a KinesisClient, got ${describeValue(client)}`);
  }
  const credentials = options['credentials'];
  if (credentials !== undefined && credentials === null) {
    throw configError('credentials', 'credentials must be an object or a provider function, got null');
  }
  const region =
    optionalString(options, 'region') ??
    process.env['AWS_REGION'] ??
    process.env['AWS_DEFAULT_REGION'] ??
    (endpoint !== undefined ? 'us-east-1' : undefined);

  const aggregationEnabled = read('aggregationEnabled') as boolean;
  const retry = resolveRetry(options['retry']);
  const logger = options['logger'];
  if (logger !== undefined && (logger === null || typeof (logger as Logger).warn !== 'function')) {
    throw configError('logger', 'logger must have debug, info, warn and error methods');
  }
  const registry = options['metricsRegistry'];
  if (registry !== undefined && (registry === null || typeof (registry as Registry).registerMetric !== 'function')) {
    throw configError('metricsRegistry', 'metricsRegistry must be a prom-client Registry');
  }

  return {
    stream:
      streamARN !== undefined ? { streamARN, ...(streamName !== undefined ? { streamName } : {}) } : { streamName: streamName as string },
    region,
    endpoint,
    credentials: credentials as ResolvedConfig['credentials'],
    client: client as KinesisClient | undefined,
    aggregationEnabled,
    aggregationMaxCount: aggregationEnabled ? (read('aggregationMaxCount') as number) : 1,
    aggregationMaxSize: read('aggregationMaxSize') as number,
    collectionMaxCount: read('collectionMaxCount') as number,
    collectionMaxSize: read('collectionMaxSize') as number,
    recordMaxBufferedTime: read('recordMaxBufferedTime') as number,
    recordTtl: read('recordTtl') as number,
    maxConnections: read('maxConnections') as number,
    requestTimeout: read('requestTimeout') as number,
    rateLimit: read('rateLimit') as number,
    failIfThrottled: read('failIfThrottled') as boolean,
    adaptiveRateLimit: read('adaptiveRateLimit') as boolean,
    maxRecordSize: read('maxRecordSize') as number | undefined,
    maxOutstandingRecords: read('maxOutstandingRecords') as number,
    maxOutstandingBytes: read('maxOutstandingBytes') as number,
    retry,
    spool: resolveSpool(options['spool']),
    compression: read('compression') as ResolvedConfig['compression'],
    strictOrdering: read('strictOrdering') as boolean,
    http2: read('http2') as boolean,
    metricsLevel: read('metricsLevel') as ResolvedConfig['metricsLevel'],
    metricsGranularity: read('metricsGranularity') as ResolvedConfig['metricsGranularity'],
    metricsRegistry: registry as Registry | undefined,
    logger: logger as Logger | undefined,
  };
}

function resolveRetry(value: unknown): ResolvedConfig['retry'] {
  if (value === undefined) return { minDelayMs: RETRY_RULES.minDelayMs.default, maxDelayMs: RETRY_RULES.maxDelayMs.default };
  if (value === null || typeof value !== 'object') {
    throw configError('retry', `retry must be an object like { minDelayMs, maxDelayMs }, got ${describeValue(value)}`);
  }
  rejectUnknownKeys(value, Object.keys(RETRY_RULES), 'retry.');
  const options = value as Record<string, unknown>;
  const minDelayMs = checkRule('retry.minDelayMs', RETRY_RULES.minDelayMs, options['minDelayMs']) as number;
  const maxDelayMs = checkRule('retry.maxDelayMs', RETRY_RULES.maxDelayMs, options['maxDelayMs']) as number;
  if (maxDelayMs < minDelayMs) {
    throw configError(
      'retry.maxDelayMs',
      `retry.maxDelayMs (${maxDelayMs}) must be at least retry.minDelayMs (${minDelayMs})`,
      minDelayMs,
      maxDelayMs,
    );
  }
  return { minDelayMs, maxDelayMs };
}

function checkEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw configError(
      'endpoint',
      `endpoint must be a URL like https://kinesis.us-east-1.amazonaws.com or http://127.0.0.1:4567, got '${withoutUserInfo(endpoint)}'`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw configError('endpoint', `endpoint must use http:// or https://, got '${url.protocol}'`);
  }
  if (url.username !== '' || url.password !== '') {
    throw configError('endpoint', 'endpoint must not carry credentials; pass them in credentials');
  }
}

/** The endpoint as it may be quoted in an error: whatever stands between '//' and '@' may be a password. */
function withoutUserInfo(endpoint: string): string {
  return endpoint.replace(/\/\/[^/@]*@/, '//***@');
}
