/**
 * What happens when the shard map is loaded or reloaded, or cannot be: after a reshard every
 * record not yet sent is predicted again on the new map, behind the records that a reshard put on
 * an unexpected shard; when ListShards fails for good, or recordTtl passes first, the records that
 * waited for it fail.
 */
import type { Logger } from '../config.js';
import type { PendingRecord } from '../pending-record.js';
import type { UserRecordFailureReason } from '../records.js';
import { EXPIRED_ERROR_CODE } from './settle.js';
import type { ShardMap } from './shard-map.js';
import type { ShardMapWaitSink } from './shard-map-wait.js';

/** The stages a map change reaches. */
export interface ShardMapChangeSink {
  /** Records of misplaced aggregates to send again on `map` (MisplacedAggregates.settle). */
  resendMisplaced(map: ShardMap): PendingRecord[];
  /** Misplaced aggregates whose shard's range is not in the map yet. */
  misplacedLeft(): boolean;
  /** Settles what is misplaced as put: no map will tell more of them. */
  settleMisplacedAsPut(): void;
  /** Every record buffered but not in flight, in arrival order per shard. */
  takeUnsent(): PendingRecord[];
  /** The shards changed: the limiter's per-shard state names old shards. */
  resetRates(): void;
  refreshMap(): void;
  /** Records to predict and aggregate again, in order. */
  readmit(items: readonly PendingRecord[]): void;
  /** Fails one record for good. */
  fail(item: PendingRecord, reason: UserRecordFailureReason, errorCode: string, errorMessage: string): void;
}

/** Handles a stream's shard map changes; one per stream pipeline. */
export class ShardMapChange implements ShardMapWaitSink<PendingRecord> {
  readonly #label: string;
  readonly #logger: Logger | undefined;
  readonly #sink: ShardMapChangeSink;

  constructor(label: string, logger: Logger | undefined, sink: ShardMapChangeSink) {
    this.#label = label;
    this.#logger = logger;
    this.#sink = sink;
  }

  /** A map is loaded; `waiting` are the records that waited for it. */
  loaded(map: ShardMap, previous: ShardMap | undefined, waiting: readonly PendingRecord[]): void {
    const sink = this.#sink;
    const changed = previous === undefined || !previous.sameShards(map);
    if (changed) this.#logger?.info('shard map loaded', { stream: this.#label, openShards: map.size });
    // Records sent again after a reshard came before anything still buffered. Shard indices of the
    // old map mean nothing in the new one: every record not yet sent is predicted again.
    const again = sink.resendMisplaced(map);
    if (changed && previous !== undefined) {
      again.push(...sink.takeUnsent());
      sink.resetRates();
    }
    again.push(...waiting);
    if (sink.misplacedLeft()) sink.refreshMap();
    sink.readmit(again);
  }

  /** ListShards failed for good: the records that waited for the map fail with its error. */
  failed(items: readonly PendingRecord[], errorCode: string, errorMessage: string): void {
    this.#sink.settleMisplacedAsPut();
    for (const item of items) this.#sink.fail(item, 'unretryable', errorCode, `cannot list the shards of ${this.#label}: ${errorMessage}`);
  }

  /** Records whose recordTtl passed while they waited for the map. */
  expired(items: readonly PendingRecord[]): void {
    for (const item of items)
      this.#sink.fail(item, 'expired', EXPIRED_ERROR_CODE, 'the shard map could not be loaded before recordTtl passed');
  }
}
