/**
 * Aggregates that a reshard misplaced: Kinesis stored one on a shard other than the one predicted
 * for it, which may not hold every one of its records' hash keys. A reader that follows the KCL's
 * rules skips a sub-record whose hash key lies outside its shard's range, so those records are not
 * delivered, whatever the response says. Once a map holds the shard that took the aggregate, the
 * records inside its range are put there, and the others go out again.
 */
import type { PendingAggregate, PendingRecord } from '../pending-record.js';
import type { Settler } from './settle.js';
import type { ShardMap } from './shard-map.js';

/** Map loads a misplaced aggregate waits through for its shard before its records are all sent again. */
const MAX_LOADS = 3;

interface Misplaced {
  readonly entry: PendingAggregate;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly sentAt: number;
  readonly durationMs: number;
  loads: number;
}

/** Misplaced aggregates waiting for a map that holds the shard each landed on. */
export class MisplacedAggregates {
  readonly #settler: Settler;
  readonly #hashKeyOf: (item: PendingRecord, out: Uint32Array, offset: number) => void;
  readonly #settled: (shardId: string, put: readonly PendingRecord[], resent: number) => void;
  readonly #hashKey = new Uint32Array(4);
  #waiting: Misplaced[] = [];

  /**
   * @param hashKeyOf writes a record's 128-bit hash key.
   * @param settled reports each aggregate settled: its records put, and how many go out again.
   */
  constructor(
    settler: Settler,
    hashKeyOf: (item: PendingRecord, out: Uint32Array, offset: number) => void,
    settled: (shardId: string, put: readonly PendingRecord[], resent: number) => void,
  ) {
    this.#settler = settler;
    this.#hashKeyOf = hashKeyOf;
    this.#settled = settled;
  }

  /** Aggregates waiting. */
  get size(): number {
    return this.#waiting.length;
  }

  /** An aggregate of more than one record was stored as `sequenceNumber` on `shardId`, not on its predicted shard. */
  add(entry: PendingAggregate, shardId: string, sequenceNumber: string, sentAt: number, durationMs: number): void {
    this.#waiting.push({ entry, shardId, sequenceNumber, sentAt, durationMs, loads: 0 });
  }

  /**
   * Settles the aggregates whose shard `map` holds, and returns their records that shard's range does
   * not hold, to send again. `afterLoad`: `map` was just loaded; an aggregate whose shard no map held
   * through a few loads is sent again whole.
   */
  settle(map: ShardMap, afterLoad: boolean): PendingRecord[] {
    const again: PendingRecord[] = [];
    if (this.#waiting.length === 0) return again;
    const waiting = this.#waiting;
    this.#waiting = [];
    const hashKey = this.#hashKey;
    for (const misplaced of waiting) {
      const shard = map.indexOf(misplaced.shardId);
      if (shard < 0 && (!afterLoad || ++misplaced.loads < MAX_LOADS)) {
        this.#waiting.push(misplaced);
        continue;
      }
      const { entry, shardId, sequenceNumber, sentAt, durationMs } = misplaced;
      const put: PendingRecord[] = [];
      const resentBefore = again.length;
      for (let i = 0; i < entry.items.length; i++) {
        const item = entry.items[i] as PendingRecord;
        this.#hashKeyOf(item, hashKey, 0);
        if (shard >= 0 && map.lookup(hashKey, 0) === shard) {
          this.#settler.put(item, shardId, sequenceNumber, i, sentAt, durationMs);
          put.push(item);
        } else {
          this.#settler.attemptMisplaced(item, shardId, sentAt, durationMs);
          again.push(item);
        }
      }
      this.#settled(shardId, put, again.length - resentBefore);
    }
    return again;
  }

  /** No map will come (close, or a failure no retry fixes): every record waiting counts as put where it landed. */
  settleAsPut(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const { entry, shardId, sequenceNumber, sentAt, durationMs } of waiting) {
      this.#settler.putAll(entry, shardId, sequenceNumber, sentAt, durationMs);
      this.#settled(shardId, entry.items, 0);
    }
  }
}
