/** What a stream pipeline tells whoever watches it (the metrics): per request or per group of records, never per add. */
import type { PendingAggregate, PendingRecord } from '../pending-record.js';
import type { RecordOutcome } from './sender.js';

/** What one finished PutRecords request did, for metrics. */
export interface RequestReport {
  readonly stream: string;
  readonly entries: readonly PendingAggregate[];
  /** Per entry: the shard that took it or the error it got; undefined when the whole request failed. */
  readonly outcomes: readonly RecordOutcome[] | undefined;
  /** The whole request's error code, when it failed as a whole. */
  readonly errorCode: string | undefined;
  /** Entries stored on a shard other than predicted: their user records are reported by {@link PipelineObserver.misplacedSettled}. */
  readonly misplaced?: ReadonlySet<PendingAggregate> | undefined;
  readonly sentAt: number;
  readonly durationMs: number;
  /** The predicted shard's id of an entry, for labels. */
  shardIdOf(entry: PendingAggregate): string;
}

/** Watches a pipeline's outcomes (metrics); called per request or per failed record group, never per add. */
export interface PipelineObserver {
  requestCompleted(report: RequestReport): void;
  /** User records that failed for good: expired, unretryable, throttled with failIfThrottled, or closed. */
  recordsFailed(stream: string, errorCode: string, count: number, expired: boolean): void;
  /** A misplaced aggregate settled: `put` are its records the shard holds; `resent` records went out again. */
  misplacedSettled(stream: string, shardId: string, put: readonly PendingRecord[], resent: number): void;
}
