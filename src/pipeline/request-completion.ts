/**
 * What follows one request's outcome: its records settle, the adaptive limiter learns what each
 * shard stored and throttled, the metrics hear of it, strictOrdering's shards take their next turn,
 * misplaced records go back in, and a stale map is reloaded.
 */
import type { PendingAggregate, PendingRecord } from '../pending-record.js';
import type { PipelineObserver } from './observer.js';
import { THROTTLED_ERROR_CODE } from './retrier.js';
import type { RecordOutcome, SendOutcome } from './sender.js';
import type { RequestSettlement } from './settle.js';
import type { ShardMap } from './shard-map.js';

/**
 * What the adaptive limiter hears of each shard's records: the limiter's accepted() and
 * throttled(), with when their request was sent (ms, on the pipeline's clock).
 */
export interface OutcomeLimiter {
  accepted(shard: number, bytes: number, sentAt: number): void;
  throttled(shard: number, bytes: number, sentAt: number): void;
}

/** Options of a {@link RequestCompletion}. */
export interface RequestCompletionOptions {
  /** The stream's name or ARN, as metrics label it. */
  readonly label: string;
  readonly strictOrdering: boolean;
  /** Report each shard's stored and throttled bytes to the limiter. */
  readonly adaptiveRateLimit: boolean;
}

/** The stages a request's outcome reaches. */
export interface RequestCompletionSink {
  /** Settles the request's records (Settler.settleRequest). */
  settle(entries: readonly PendingAggregate[], outcome: SendOutcome, map: ShardMap | undefined, sentAt: number): RequestSettlement;
  /** The shard map now. */
  currentMap(): ShardMap | undefined;
  /** strictOrdering: the request's shards may send again. */
  shardsFinished(entries: readonly PendingAggregate[]): void;
  /** Records that a reshard put on an unexpected shard and that must be sent again, given the current map. */
  resendMisplaced(map: ShardMap): PendingRecord[];
  readmit(items: readonly PendingRecord[]): void;
  refreshMap(): void;
  /** A connection is free: send what is queued. */
  next(): void;
}

/** Handles each request's outcome; one per stream pipeline. */
export class RequestCompletion {
  readonly #options: RequestCompletionOptions;
  readonly #limiter: OutcomeLimiter;
  readonly #observer: PipelineObserver | undefined;
  readonly #sink: RequestCompletionSink;

  constructor(
    options: RequestCompletionOptions,
    limiter: OutcomeLimiter,
    observer: PipelineObserver | undefined,
    sink: RequestCompletionSink,
  ) {
    this.#options = options;
    this.#limiter = limiter;
    this.#observer = observer;
    this.#sink = sink;
  }

  /** One request's outcome, with the shard map its records were predicted with and when it was sent. */
  completed(entries: readonly PendingAggregate[], outcome: SendOutcome, map: ShardMap | undefined, sentAt: number): void {
    const sink = this.#sink;
    const { stale, misplaced } = sink.settle(entries, outcome, map, sentAt);
    // Shard indexes are the map's of the request: after a new map they name other shards.
    if (this.#options.adaptiveRateLimit && outcome.kind === 'sent' && map !== undefined && map === sink.currentMap()) {
      reportOutcomes(this.#limiter, entries, outcome.records, sentAt);
    }
    this.#observer?.requestCompleted({
      stream: this.#options.label,
      entries,
      outcomes: outcome.kind === 'sent' ? outcome.records : undefined,
      errorCode: outcome.kind === 'failed' ? outcome.errorCode : undefined,
      misplaced,
      sentAt,
      durationMs: outcome.durationMs,
      shardIdOf: (entry) => (map !== undefined && entry.shard < map.size ? map.shardId(entry.shard) : 'unknown'),
    });
    if (this.#options.strictOrdering) sink.shardsFinished(entries);
    const current = sink.currentMap();
    if (misplaced !== undefined && current !== undefined) sink.readmit(sink.resendMisplaced(current));
    if (stale) sink.refreshMap();
    sink.next();
  }
}

/**
 * Tells the adaptive limiter what each shard stored and throttled in a request sent at `sentAt`,
 * so that a shard's rate backs off when it throttles, and no other shard's does.
 */
export function reportOutcomes(
  limiter: OutcomeLimiter,
  entries: readonly PendingAggregate[],
  outcomes: readonly RecordOutcome[],
  sentAt: number,
): void {
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as PendingAggregate;
    const errorCode = outcomes[i]?.errorCode;
    if (errorCode === undefined) limiter.accepted(entry.shard, entry.size, sentAt);
    else if (errorCode === THROTTLED_ERROR_CODE) limiter.throttled(entry.shard, entry.size, sentAt);
  }
}
