/**
 * The settle step: turns what happened to a record into its promise's outcome. A put resolves it
 * with its shard and sequence number; a failed attempt is recorded and the retry policy sends the
 * record back (after a delay) or fails it; a record that cannot wait any longer fails as expired.
 * Every attempt a record resolves with is built here, and only here.
 */
import type { PendingAggregate, PendingRecord } from '../pending-record.js';
import { type Attempt, UserRecordFailedError, type UserRecordFailureReason } from '../records.js';
import { backoffRetries, type Retrier } from './retrier.js';
import type { RecordOutcome, SendOutcome } from './sender.js';
import type { ShardMap } from './shard-map.js';

/** Error code a record fails with when its recordTtl passed before any attempt of it failed. */
export const EXPIRED_ERROR_CODE = 'Expired';

/** Where the settle step sends what it decided. */
export interface SettleSink {
  /** A record's promise settled, resolved or rejected; called once per record. */
  settled(item: PendingRecord): void;
  /** `count` records failed for good with `errorCode`, for metrics. */
  failed(errorCode: string, count: number, reason: UserRecordFailureReason): void;
  /** A record tries again after `delayMs`. */
  retry(item: PendingRecord, delayMs: number): void;
  /** strictOrdering: the records of `shard` that failed in one request try again together, in order, after `delayMs`. */
  retryShard(shard: number, items: PendingRecord[], delayMs: number): void;
  /**
   * An aggregate of several records was stored on `shardId`, not on its predicted shard (a
   * reshard): which of its records that shard holds is not known yet, so none is settled.
   */
  misplaced(entry: PendingAggregate, shardId: string, sequenceNumber: string, sentAt: number, durationMs: number): void;
}

/** What settling one request found besides its records' outcomes. */
export interface RequestSettlement {
  /** The shard map may be stale: a shard closed, or a record landed on a shard other than predicted. */
  readonly stale: boolean;
  /** Entries handed to {@link SettleSink.misplaced}, if any. */
  readonly misplaced: ReadonlySet<PendingAggregate> | undefined;
}

/** Options of a {@link Settler}. */
export interface SettlerOptions {
  readonly retrier: Retrier;
  /** How long a record may take from add() to its put, in ms. */
  readonly recordTtl: number;
  /** Retries of one shard go back together, so that its records stay in order. */
  readonly strictOrdering: boolean;
}

/** strictOrdering: the records of one shard that failed in a request, and how long they must wait. */
interface RetryGroup {
  readonly items: PendingRecord[];
  delayMs: number;
}

/** Settles records; one per stream pipeline. */
export class Settler {
  readonly #retrier: Retrier;
  readonly #recordTtl: number;
  readonly #strictOrdering: boolean;
  readonly #sink: SettleSink;
  /** strictOrdering: failed records of the request being settled, by shard. */
  readonly #groups = new Map<number, RetryGroup>();
  #closed = false;

  constructor(options: SettlerOptions, sink: SettleSink) {
    this.#retrier = options.retrier;
    this.#recordTtl = options.recordTtl;
    this.#strictOrdering = options.strictOrdering;
    this.#sink = sink;
  }

  /** After close, a failed attempt fails its records (reason `closed`) instead of retrying them. */
  close(): void {
    this.#closed = true;
  }

  /**
   * Settles every entry of a finished request from its outcome: puts, retries and failures, with
   * strictOrdering's retry groups handed over at the end. `map` is the one its shards were predicted
   * with; `sentAt` (ms, the records' clock) is when it went out.
   */
  settleRequest(
    entries: readonly PendingAggregate[],
    outcome: SendOutcome,
    map: ShardMap | undefined,
    sentAt: number,
    now: number,
  ): RequestSettlement {
    const { durationMs } = outcome;
    const retrier = this.#retrier;
    let stale = false;
    let misplaced: Set<PendingAggregate> | undefined;
    if (outcome.kind === 'failed') {
      stale = retrier.isStaleMapSignal(outcome.errorCode, outcome.errorMessage);
      for (const entry of entries) this.attemptFailed(entry, outcome.errorCode, outcome.errorMessage, sentAt, durationMs, now);
    } else {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i] as PendingAggregate;
        const result = outcome.records[i] as RecordOutcome;
        if (result.errorCode !== undefined) {
          if (retrier.isStaleMapSignal(result.errorCode, result.errorMessage)) stale = true;
          this.attemptFailed(entry, result.errorCode, result.errorMessage, sentAt, durationMs, now);
        } else if (map === undefined || map.shardId(entry.shard) === result.shardId) {
          this.putAll(entry, result.shardId, result.sequenceNumber, sentAt, durationMs);
        } else {
          // A reshard: the aggregate went to a shard that may not hold all of its records' keys. A
          // single record always lands where its own hash key belongs.
          stale = true;
          if (entry.items.length === 1) this.putAll(entry, result.shardId, result.sequenceNumber, sentAt, durationMs);
          else {
            (misplaced ??= new Set()).add(entry);
            this.#sink.misplaced(entry, result.shardId, result.sequenceNumber, sentAt, durationMs);
          }
        }
      }
    }
    this.#endRequest();
    return { stale, misplaced };
  }

  /**
   * Resolves every record of `entry` as put in `shardId` with `sequenceNumber`, its index in the
   * aggregate as sub-sequence number. `sentAt` (ms, the records' clock) and `durationMs` describe
   * the request.
   */
  putAll(entry: PendingAggregate, shardId: string, sequenceNumber: string, sentAt: number, durationMs: number): void {
    const items = entry.items;
    const aggregated = items.length > 1;
    // Whole milliseconds, so that records that became ready in the same millisecond had the same
    // single attempt: they share one attempt list instead of two objects each, the ones the hot
    // path would otherwise allocate most. A list is frozen once it is shared, and only then, since
    // freezing costs more than the allocation it saves for a list that one record gets.
    const sentAtMs = Math.round(sentAt);
    const wholeDurationMs = Math.round(durationMs);
    let sharedReadyAt = -1;
    let sharedAttempts: Attempt[] = [];
    let shared = false;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as PendingRecord;
      if (item.callback !== undefined) {
        this.#sink.settled(item);
        item.tell(undefined);
        continue;
      }
      let attempts: readonly Attempt[];
      if (item.attempts !== undefined) {
        attempts = this.#recordSuccess(item, sentAtMs, wholeDurationMs);
      } else if (item.readyAt === sharedReadyAt) {
        if (!shared) {
          Object.freeze(sharedAttempts[0]);
          Object.freeze(sharedAttempts);
          shared = true;
        }
        attempts = sharedAttempts;
      } else {
        sharedReadyAt = item.readyAt;
        sharedAttempts = [{ delayMs: Math.max(0, sentAtMs - item.readyAt), durationMs: wholeDurationMs, success: true }];
        shared = false;
        attempts = sharedAttempts;
      }
      item.resolve({ successful: true, shardId, sequenceNumber, subSequenceNumber: aggregated ? i : 0, attempts });
      this.#sink.settled(item);
    }
  }

  /** Resolves one record as put: `subSequenceNumber` is its index in the Kinesis record that carried it. */
  put(item: PendingRecord, shardId: string, sequenceNumber: string, subSequenceNumber: number, sentAt: number, durationMs: number): void {
    if (item.callback !== undefined) {
      this.#sink.settled(item);
      item.tell(undefined);
      return;
    }
    const attempts = this.#recordSuccess(item, Math.round(sentAt), Math.round(durationMs));
    item.resolve({ successful: true, shardId, sequenceNumber, subSequenceNumber, attempts });
    this.#sink.settled(item);
  }

  /**
   * Records a failed attempt for every record of `entry` and retries or fails each, as the retry
   * policy says. With strictOrdering the retries of a shard are held until the request is settled.
   */
  attemptFailed(entry: PendingAggregate, errorCode: string, errorMessage: string, sentAt: number, durationMs: number, now: number): void {
    const delayMs = Math.round(durationMs);
    let failedCount = 0;
    let expiredCount = 0;
    let lastReason: UserRecordFailureReason = 'unretryable';
    for (const item of entry.items) {
      const attempts = item.attempts ?? (item.attempts = []);
      attempts.push({
        delayMs: Math.max(0, Math.round(sentAt) - item.readyAt),
        durationMs: delayMs,
        success: false,
        errorCode,
        errorMessage,
      });
      const decision = this.#closed
        ? { action: 'fail' as const, reason: 'closed' as const }
        : this.#retrier.decide(errorCode, backoffRetries(attempts), item.arrivedAt + this.#recordTtl, now);
      if (decision.action === 'retry') {
        this.#retry(entry.shard, item, decision.delayMs);
        continue;
      }
      const expired = decision.reason === 'expired';
      const message = expired
        ? `record expired: recordTtl of ${this.#recordTtl} ms passed after ${attempts.length} attempt(s); last error ${errorCode}`
        : undefined;
      this.#reject(item, message, decision.reason, errorCode);
      if (expired) expiredCount++;
      else {
        failedCount++;
        lastReason = decision.reason;
      }
    }
    if (expiredCount > 0) this.#sink.failed(errorCode, expiredCount, 'expired');
    if (failedCount > 0) this.#sink.failed(errorCode, failedCount, lastReason);
  }

  /**
   * Records that a record was stored where a reader following the KCL's rules skips it (an aggregate
   * landed on a shard whose range does not hold the record's hash key, after a reshard), so that
   * it goes out again; the attempt counts as failed.
   */
  attemptMisplaced(item: PendingRecord, shardId: string, sentAt: number, durationMs: number): void {
    const attempts = item.attempts ?? (item.attempts = []);
    attempts.push({
      delayMs: Math.max(0, Math.round(sentAt) - item.readyAt),
      durationMs: Math.round(durationMs),
      success: false,
      errorCode: RESHARDED_ERROR_CODE,
      errorMessage: `stored on ${shardId}, whose hash key range does not hold the record after a reshard; sent again`,
    });
  }

  /** strictOrdering: hands each shard's failed records of the request just settled to the sink, together. */
  #endRequest(): void {
    if (this.#groups.size === 0) return;
    for (const [shard, group] of this.#groups) this.#sink.retryShard(shard, group.items, group.delayMs);
    this.#groups.clear();
  }

  /**
   * Fails records whose recordTtl passed while they waited, before or between attempts. The
   * message quotes the last error when an attempt failed.
   */
  expire(items: readonly PendingRecord[]): void {
    if (items.length === 0) return;
    let lastCode = EXPIRED_ERROR_CODE;
    for (const item of items) {
      const attempts = item.attempts ?? [];
      const last = attempts[attempts.length - 1]?.errorCode;
      const errorCode = last ?? EXPIRED_ERROR_CODE;
      const message =
        `record expired: recordTtl of ${this.#recordTtl} ms passed after ${attempts.length} attempt(s)` +
        (last === undefined ? ' while it waited to be sent' : `; last error ${last}`);
      this.#reject(item, message, 'expired', errorCode);
      lastCode = errorCode;
    }
    this.#sink.failed(lastCode, items.length, 'expired');
  }

  /**
   * Fails as expired the records of `aggregates` whose deadline is at or before `cutoff` (ms, the
   * records' clock), and returns the others, in order.
   */
  expireDue(aggregates: readonly PendingAggregate[], cutoff: number): PendingRecord[] {
    const expired: PendingRecord[] = [];
    const live: PendingRecord[] = [];
    for (const aggregate of aggregates) {
      for (const item of aggregate.items) (item.arrivedAt + this.#recordTtl <= cutoff ? expired : live).push(item);
    }
    this.expire(expired);
    return live;
  }

  /**
   * Fails a record for good without sending it (the producer closed, the shard map could not be
   * loaded, its recordTtl passed while it waited for the map); the failure is its last attempt.
   */
  fail(item: PendingRecord, reason: UserRecordFailureReason, errorCode: string, errorMessage: string): void {
    const attempts = item.attempts ?? (item.attempts = []);
    attempts.push({ delayMs: 0, durationMs: 0, success: false, errorCode, errorMessage });
    this.#reject(item, `record failed: ${errorCode}: ${errorMessage}`, reason, errorCode);
    this.#sink.failed(errorCode, 1, reason);
  }

  #recordSuccess(item: PendingRecord, sentAtMs: number, durationMs: number): readonly Attempt[] {
    const success: Attempt = { delayMs: Math.max(0, sentAtMs - item.readyAt), durationMs, success: true };
    if (item.attempts === undefined) return [success];
    item.attempts.push(success);
    return item.attempts;
  }

  #retry(shard: number, item: PendingRecord, delayMs: number): void {
    if (!this.#strictOrdering) {
      this.#sink.retry(item, delayMs);
      return;
    }
    const group = this.#groups.get(shard);
    if (group === undefined) this.#groups.set(shard, { items: [item], delayMs });
    else {
      group.items.push(item);
      group.delayMs = Math.max(group.delayMs, delayMs);
    }
  }

  #reject(item: PendingRecord, message: string | undefined, reason: UserRecordFailureReason, errorCode: string): void {
    item.reject(new UserRecordFailedError(item.record, item.attempts ?? [], message, { reason, errorCode }));
    this.#sink.settled(item);
  }
}

/** Error code of an attempt whose record was stored on a shard that does not hold its hash key, after a reshard. */
export const RESHARDED_ERROR_CODE = 'Resharded';
