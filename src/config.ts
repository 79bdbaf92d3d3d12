import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Registry } from 'prom-client';
import { LARGEST_RECORD_BYTES, MAX_BYTES_PER_PUT_RECORDS, MAX_RECORD_BYTES, MAX_RECORDS_PER_PUT_RECORDS } from './format/limits.js';
import { describeValue, formatNumber } from './describe-value.js';
import { type UserRecordFailedError, ValidationError } from './records.js';

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
 * A durable spool on disk (see README "Gateways"): records are appended to it before they are sent,
 * and leave it when Kinesis stored them or they failed for good. The backlog of an outage waits on
 * disk; maxOutstandingRecords and maxOutstandingBytes then bound only the in-memory window of it.
 */
export interface SpoolConfig {
  /** The spool's directory; created if missing; one process at a time (a lock file says which). */
  readonly directory: string;
  /** Most bytes of spool files on disk; at it, enqueue() waits and add() rejects with BufferFullError. @default 1073741824, 1 GiB (range 1,048,576 to 1,125,899,906,842,624) */
  readonly maxBytes?: number;
  /** Records older than this (ms since they were spooled) are dropped unsent and counted. @default 604800000, 7 days (range 1,000 to 31,536,000,000) */
  readonly maxAgeMs?: number;
  /** Most time in ms between two fsyncs of spooled records; enqueue() resolves after the one that covers its record (0: back to back). @default 100 (range 0 to 60,000) */
  readonly syncIntervalMs?: number;
  /** Called for every spooled record that failed for good (an unretryable error, or failIfThrottled); add()'s promise rejects as well. */
  readonly onFailure?: (error: UserRecordFailedError) => void;
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

interface NumberRule {
  readonly kind: 'number';
  readonly default: number;
  readonly min: number;
  readonly max: number;
}
interface BooleanRule {
  readonly kind: 'boolean';
  readonly default: boolean;
}
interface ChoiceRule {
  readonly kind: 'choice';
  readonly default: string;
  readonly choices: readonly string[];
}
interface FreeRule {
  readonly kind: 'free';
}
/** A number with no default: absent means "ask the service". */
interface OptionalNumberRule {
  readonly kind: 'optionalNumber';
  readonly min: number;
  readonly max: number;
}
type Rule = NumberRule | BooleanRule | ChoiceRule | FreeRule | OptionalNumberRule;

const number = (value: number, min: number, max: number): NumberRule => ({ kind: 'number', default: value, min, max });
const boolean = (value: boolean): BooleanRule => ({ kind: 'boolean', default: value });
const choice = (value: string, choices: readonly string[]): ChoiceRule => ({ kind: 'choice', default: value, choices });
const free: FreeRule = { kind: 'free' };
const optionalNumber = (min: number, max: number): OptionalNumberRule => ({ kind: 'optionalNumber', min, max });

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

/** A SpoolConfig with its defaults applied. */
export interface ResolvedSpoolConfig {
  readonly directory: string;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly syncIntervalMs: number;
  readonly onFailure: ((error: UserRecordFailedError) => void) | undefined;
}

const SPOOL_RULES = {
  directory: free,
  maxBytes: number(1024 * 1024 * 1024, 1024 * 1024, 2 ** 50),
  maxAgeMs: number(7 * 24 * 60 * 60 * 1000, 1000, 365 * 24 * 60 * 60 * 1000),
  syncIntervalMs: number(100, 0, 60_000),
  onFailure: free,
} as const satisfies Record<keyof SpoolConfig, Rule>;

function resolveSpool(value: unknown): ResolvedSpoolConfig | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') {
    throw configError('spool', `spool must be an object like { directory: '/var/spool/kpl' }, got ${describeValue(value)}`);
  }
  rejectUnknownKeys(value, Object.keys(SPOOL_RULES), 'spool.');
  const options = value as Record<string, unknown>;
  const directory = options['directory'];
  if (typeof directory !== 'string' || directory.length === 0) {
    throw configError('spool.directory', `spool.directory must be a non-empty path, got ${describeValue(directory)}`);
  }
  const onFailure = options['onFailure'];
  if (onFailure !== undefined && typeof onFailure !== 'function') {
    throw configError('spool.onFailure', `spool.onFailure must be a function, got ${describeValue(onFailure)}`);
  }
  return {
    directory,
    maxBytes: checkRule('spool.maxBytes', SPOOL_RULES.maxBytes, options['maxBytes']) as number,
    maxAgeMs: checkRule('spool.maxAgeMs', SPOOL_RULES.maxAgeMs, options['maxAgeMs']) as number,
    syncIntervalMs: checkRule('spool.syncIntervalMs', SPOOL_RULES.syncIntervalMs, options['syncIntervalMs']) as number,
    onFailure: onFailure as ResolvedSpoolConfig['onFailure'],
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

function checkRule(field: string, rule: Rule, value: unknown): unknown {
  if (rule.kind === 'free') return value;
  if (value === undefined) return rule.kind === 'optionalNumber' ? undefined : rule.default;
  switch (rule.kind) {
    case 'number':
    case 'optionalNumber':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw configError(
          field,
          `${field} must be a whole number from ${formatNumber(rule.min)} to ${formatNumber(rule.max)}, got ${describeValue(value)}`,
          rule.max,
          describeValue(value),
        );
      }
      if (value < rule.min || value > rule.max) {
        throw configError(
          field,
          `${field} is ${formatNumber(value)}; it must be from ${formatNumber(rule.min)} to ${formatNumber(rule.max)}`,
          value < rule.min ? rule.min : rule.max,
          value,
        );
      }
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw configError(field, `${field} must be true or false, got ${describeValue(value)}`);
      return value;
    case 'choice':
      if (typeof value !== 'string' || !rule.choices.includes(value)) {
        throw configError(field, `${field} must be one of ${rule.choices.map((c) => `'${c}'`).join(', ')}, got ${describeValue(value)}`);
      }
      return value;
  }
}

function optionalString(options: Record<string, unknown>, field: string): string | undefined {
  const value = options[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw configError(field, `${field} must be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
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

function rejectUnknownKeys(value: object, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    const hint = suggestion !== undefined ? `; did you mean ${prefix}${suggestion}?` : `; known options are ${known.join(', ')}`;
    throw configError(`${prefix}${key}`, `unknown option ${prefix}${key}${hint}`);
  }
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

function configError(field: string, message: string, limit?: number, actual?: number | string): ValidationError {
  return new ValidationError(field, message, limit, actual, { code: 'KPL_CONFIG_INVALID' });
}
