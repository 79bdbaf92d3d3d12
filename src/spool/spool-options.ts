import type { Logger } from '../config.js';

/** Options of a {@link Spool}. */
export interface SpoolOptions {
  /** The directory holding the spool's files; created if missing. One process at a time. */
  readonly directory: string;
  /** Most bytes of segment files on disk; appends beyond wait for room or are refused. @default 1 GiB */
  readonly maxBytes?: number;
  /** Records older than this (ms since they were appended) are dropped, counted, unsent. @default 7 days */
  readonly maxAgeMs?: number;
  /** Most time in ms between two fsyncs of appended records (0: one right after another). @default 100 */
  readonly syncIntervalMs?: number;
  /** Largest segment file in bytes; the disk is freed a whole segment at a time. @default maxBytes / 16, from 64 KiB to 16 MiB */
  readonly segmentBytes?: number;
  /** Where recovery and damage are reported. */
  readonly logger?: Logger;
  /** The wall clock in ms, for records' ages. @default Date.now */
  readonly now?: () => number;
}

/** How a record left the spool. */
export type SpoolOutcome = 'delivered' | 'failed' | 'expired';

/** The spool's counts, for metrics and logs. */
export interface SpoolStats {
  /** Bytes of segment files. */
  readonly bytes: number;
  /** Records held: appended or recovered, not yet done. */
  readonly records: number;
  /**
   * Append time (ms since the epoch) of the oldest record held, up to a second early (maxAgeMs / 100,000
   * when that is longer); for records recovered at open, of the first record each recovered segment
   * held. Undefined when empty.
   */
  readonly oldestAppendedAt: number | undefined;
  /** Records found undone at open, left by an earlier process. */
  readonly recovered: number;
  readonly delivered: number;
  readonly failed: number;
  /** Records dropped unsent because they were older than maxAgeMs. */
  readonly expired: number;
  /** Records lost to damaged frames, skipped. */
  readonly corrupt: number;
  /** Bytes cut from the last segment's end at open: a torn write. */
  readonly truncatedBytes: number;
}

/** Defaults of {@link SpoolOptions}. */
export const SPOOL_DEFAULTS = {
  maxBytes: 1024 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  syncIntervalMs: 100,
} as const;

const MIN_SEGMENT_BYTES = 64 * 1024;
const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;

/**
 * The default segment size for a spool of `maxBytes`: a sixteenth of it, so that freeing one segment
 * frees a useful share, between 64 KiB (not too many files) and 16 MiB (a segment is read whole at open).
 */
export function defaultSegmentBytes(maxBytes: number): number {
  return Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(maxBytes / 16)));
}
