/**
 * The spool part of the producer's config: the options of a durable spool on disk, their rules and
 * defaults, and their check.
 */
import { describeValue } from './describe-value.js';
import { checkRule, configError, free, number, rejectUnknownKeys, type Rule } from './config-rules.js';
import type { UserRecordFailedError } from './records.js';

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

/** The spool option with its defaults applied; undefined without a spool. @throws ValidationError naming the option. */
export function resolveSpool(value: unknown): ResolvedSpoolConfig | undefined {
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
