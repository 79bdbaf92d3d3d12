/**
 * The shard map: which open shard owns a hash key. shard-map-tracker.ts keeps it current, and
 * list-shards.ts reads the ranges it is built from.
 *
 * A lookup runs once per record, so the map keeps every range bound as four uint32 words in one
 * Uint32Array and binary-searches it: no BigInt, no allocation, O(log n) for any shard count.
 * Ranges are read from ListShards, never assumed: servers split unevenly, and after a reshard a
 * stream's ranges are whatever the splits and merges left.
 */
import { compareHashKeys, HASH_KEY_WORDS, hashKeyToDecimal, parseHashKey } from '../format/hash-key.js';

// Where `kpl bench` has always found it.
export { listOpenShards, type ListOpenShardsOptions } from './list-shards.js';

/** An open shard's id and its inclusive range of hash keys, as decimal strings. */
export interface ShardRange {
  shardId: string;
  startingHashKey: string;
  endingHashKey: string;
}

/** Words a shard takes in the bounds array: its starting key, then its ending key. */
const WORDS_PER_SHARD = 2 * HASH_KEY_WORDS;

/** An immutable map from hash key to open shard. Shards are indexed 0..size-1 in hash key order. */
export class ShardMap {
  /** How many shards the map holds. */
  readonly size: number;
  readonly #bounds: Uint32Array;
  /** The top word of each shard's starting key: the search runs over these 4 bytes a shard. */
  readonly #startTops: Uint32Array;
  readonly #shardIds: readonly string[];
  readonly #indexById: ReadonlyMap<string, number>;

  private constructor(bounds: Uint32Array, shardIds: readonly string[]) {
    this.size = shardIds.length;
    this.#bounds = bounds;
    this.#startTops = new Uint32Array(shardIds.length);
    for (let i = 0; i < shardIds.length; i++) this.#startTops[i] = bounds[i * WORDS_PER_SHARD]!;
    this.#shardIds = shardIds;
    this.#indexById = new Map(shardIds.map((id, index) => [id, index]));
  }

  /**
   * Builds the map of a stream's open shards, sorted by starting hash key. Gaps between ranges
   * are allowed (a key in a gap has no shard); overlaps are not, since open shards never overlap:
   * an overlap means the listing mixed a parent shard with its children.
   *
   * @throws RangeError naming the shard when a bound is not a decimal in [0, 2^128 - 1], a range
   *   ends before it starts, two ranges overlap, or a shard id repeats.
   */
  static fromShards(shards: readonly ShardRange[]): ShardMap {
    const parsed = new Uint32Array(shards.length * WORDS_PER_SHARD);
    shards.forEach((shard, index) => {
      const offset = index * WORDS_PER_SHARD;
      for (const [field, value, at] of [
        ['startingHashKey', shard.startingHashKey, offset],
        ['endingHashKey', shard.endingHashKey, offset + HASH_KEY_WORDS],
      ] as const) {
        if (!parseHashKey(value, parsed, at)) {
          throw new RangeError(
            `shard ${shard.shardId}: ${field} must be a decimal integer from 0 to 2^128 - 1; got ${JSON.stringify(value)}`,
          );
        }
      }
      if (compareHashKeys(parsed, offset, parsed, offset + HASH_KEY_WORDS) > 0) {
        throw new RangeError(
          `shard ${shard.shardId}: endingHashKey ${shard.endingHashKey} is below startingHashKey ${shard.startingHashKey}`,
        );
      }
    });

    const order = shards.map((_, index) => index);
    order.sort((a, b) => compareHashKeys(parsed, a * WORDS_PER_SHARD, parsed, b * WORDS_PER_SHARD));
    const bounds = new Uint32Array(parsed.length);
    const shardIds: string[] = [];
    const seen = new Set<string>();
    order.forEach((from, to) => {
      const shard = shards[from]!;
      if (seen.has(shard.shardId)) throw new RangeError(`shard ${shard.shardId} is listed twice`);
      seen.add(shard.shardId);
      bounds.set(parsed.subarray(from * WORDS_PER_SHARD, (from + 1) * WORDS_PER_SHARD), to * WORDS_PER_SHARD);
      shardIds.push(shard.shardId);
      const previousEnd = (to - 1) * WORDS_PER_SHARD + HASH_KEY_WORDS;
      if (to > 0 && compareHashKeys(bounds, previousEnd, bounds, to * WORDS_PER_SHARD) >= 0) {
        throw new RangeError(
          `shards ${shardIds[to - 1]} and ${shard.shardId} overlap at hash key ${shard.startingHashKey}; open shards never overlap`,
        );
      }
    });
    return new ShardMap(bounds, shardIds);
  }

  /**
   * The index of the shard whose range holds the hash key at `hashKey[offset..offset+3]`, or -1
   * when no shard holds it. O(log n), no BigInt, no allocation.
   */
  lookup(hashKey: Uint32Array, offset: number): number {
    const size = this.size;
    if (size === 0) return -1;
    const tops = this.#startTops;
    const top = hashKey[offset]!;
    // Finds the last shard whose starting key's top word is <= the key's, without a branch per
    // step (the comparison compiles to a conditional move): random keys defeat branch prediction.
    let base = 0;
    for (let n = size; n > 1;) {
      const half = n >>> 1;
      base = tops[base + half]! <= top ? base + half : base;
      n -= half;
    }
    const baseTop = tops[base]!;
    if (baseTop > top) return -1;
    // Shards narrower than 2^96 can share a top word; then compare whole keys among them.
    const candidate = baseTop === top ? this.#lastStartingAtOrBelow(hashKey, offset, base) : base;
    if (candidate < 0) return -1;
    return compareHashKeys(hashKey, offset, this.#bounds, candidate * WORDS_PER_SHARD + HASH_KEY_WORDS) <= 0 ? candidate : -1;
  }

  /** The last shard in 0..last whose starting key is <= the key, or -1. */
  #lastStartingAtOrBelow(hashKey: Uint32Array, offset: number, last: number): number {
    const bounds = this.#bounds;
    let low = 0;
    let high = last;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (compareHashKeys(bounds, middle * WORDS_PER_SHARD, hashKey, offset) <= 0) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  /** The id of the shard at `index` (0..size-1). */
  shardId(index: number): string {
    const id = this.#shardIds[index];
    if (id === undefined) throw new RangeError(`shard index must be from 0 to ${this.size - 1}; got ${index}`);
    return id;
  }

  /** The index of the shard with this id, or -1 when the map does not hold it. */
  indexOf(shardId: string): number {
    return this.#indexById.get(shardId) ?? -1;
  }

  /** True when `other` holds the same shards in the same order, so that shard indices mean the same in both. */
  sameShards(other: ShardMap): boolean {
    if (other.size !== this.size) return false;
    for (let i = 0; i < this.size; i++) if (other.#shardIds[i] !== this.#shardIds[i]) return false;
    return true;
  }

  /** The shard at `index` with its range, in the form {@link fromShards} takes. */
  shard(index: number): ShardRange {
    const shardId = this.shardId(index);
    const offset = index * WORDS_PER_SHARD;
    return {
      shardId,
      startingHashKey: hashKeyToDecimal(this.#bounds, offset),
      endingHashKey: hashKeyToDecimal(this.#bounds, offset + HASH_KEY_WORDS),
    };
  }
}
