import { createHash } from 'node:crypto';

/** An open shard's hash key range, inclusive at both ends. */
export interface ShardRange {
  readonly shardId: string;
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
}

const MAX_HASH_KEY = (1n << 128n) - 1n;
const DECIMAL_HASH_KEY = /^(0|[1-9]\d{0,38})$/;

/** MD5 of the partition key's UTF-8 bytes, read as a big-endian unsigned 128-bit integer. */
export function partitionKeyHashKey(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** The hash key an ExplicitHashKey names, or undefined when it is not a decimal in [0, 2^128 − 1]. */
export function parseExplicitHashKey(explicitHashKey: string): bigint | undefined {
  if (!DECIMAL_HASH_KEY.test(explicitHashKey)) return undefined;
  const hashKey = BigInt(explicitHashKey);
  return hashKey <= MAX_HASH_KEY ? hashKey : undefined;
}

/** Lookup from hash key to the open shard that owns it. Not for hot paths: it uses BigInt. */
export class ShardMap {
  readonly #ranges: readonly ShardRange[];

  /** `ranges` are the stream's open shards, in any order. */
  constructor(ranges: readonly ShardRange[]) {
    this.#ranges = [...ranges].sort((a, b) => (a.startingHashKey < b.startingHashKey ? -1 : 1));
  }

  /** The open shards, by starting hash key. */
  get ranges(): readonly ShardRange[] {
    return this.#ranges;
  }

  /** The shard whose range holds `hashKey`, or undefined if no open shard does. */
  shardFor(hashKey: bigint): string | undefined {
    let low = 0;
    let high = this.#ranges.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const range = this.#ranges[middle] as ShardRange;
      if (hashKey < range.startingHashKey) high = middle - 1;
      else if (hashKey > range.endingHashKey) low = middle + 1;
      else return range.shardId;
    }
    return undefined;
  }
}
