import type { ClosedAggregate } from './pipeline/aggregator.js';
import type { Attempt, UserRecord, UserRecordResult } from './records.js';

/** A Kinesis record of pending user records, as the aggregator closes it. */
export type PendingAggregate = ClosedAggregate<PendingRecord>;

/**
 * Milliseconds on the monotonic clock, whole. Whole numbers fit V8's small integers, so a record's
 * time fields cost no heap allocation each (a fractional number in a field is boxed); 1 ms is finer
 * than any setting they are compared with.
 */
export function monotonicMs(): number {
  return Math.round(performance.now());
}

/**
 * A user record between add() and its settlement: what it is, when it came, what happened to it so
 * far, and how to tell the caller. One object per record, allocated once and reused across retries.
 */
export class PendingRecord {
  /** When it last entered the aggregator (ms): at add() or when its backoff ended. */
  readyAt: number;
  /**
   * Its attempts so far, in order, the successful one last once it is put. Allocated at its first
   * failed attempt: a record put at its first try never has one.
   */
  attempts: Attempt[] | undefined;

  constructor(
    readonly record: UserRecord,
    readonly data: Uint8Array,
    /** When add() took it (ms); it expires recordTtl later. */
    readonly arrivedAt: number,
    /** Which flush() generation it belongs to. */
    readonly generation: number,
    /** Settles add()'s promise; the only one of its two settling functions that is kept. */
    readonly resolve: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void,
    /**
     * What it holds of maxOutstandingBytes ({@link outstandingBytesOf}), kept rather than computed
     * again at settlement: by then the caller's record and key are long out of the CPU cache, and
     * with thousands of shards reading them cost more per record than this field's 8 bytes.
     */
    readonly outstandingBytes: number,
  ) {
    this.readyAt = arrivedAt;
  }

  /**
   * Rejects add()'s promise by resolving it with a rejected one. Keeping the promise's own reject
   * function as well would cost every buffered record another function object; failure is rare.
   */
  reject(error: Error): void {
    this.resolve(Promise.reject(error));
  }

  /** The record's partition key. */
  get partitionKey(): string {
    return this.record.partitionKey;
  }

  /** The record's explicit hash key, if it has one. */
  get explicitHashKey(): string | undefined {
    return this.record.explicitHashKey;
  }

  /** Its failed attempts so far: what kpl_retries_per_record counts once it is put. */
  get failedAttemptCount(): number {
    return failedAttemptCount(this.attempts);
  }
}

/** A record's share of maxOutstandingBytes, the same at add() and when it settles. */
export function outstandingBytesOf(partitionKey: string, data: Uint8Array): number {
  return data.length + partitionKey.length;
}

/** The failed attempts in an attempt list. */
export function failedAttemptCount(attempts: readonly Attempt[] | undefined): number {
  if (attempts === undefined) return 0;
  let failed = 0;
  for (let i = 0; i < attempts.length; i++) if (!(attempts[i] as Attempt).success) failed++;
  return failed;
}
