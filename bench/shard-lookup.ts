/**
 * Shard lookup: ShardMap.lookup (four uint32 words, binary search) against the same binary search
 * over BigInt bounds, for 4, 64 and 4,096 shards. The BigInt side gets its keys already converted,
 * so the comparison favours it: a producer would also pay for turning each MD5 into a BigInt.
 *
 *   npm run build && node dist/bench/shard-lookup.js
 */
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { ShardMap, type ShardRange } from '../src/pipeline/shard-map.js';
import { createRandom } from '../src/testing/random.js';

/** Figures for one shard count: median lookups per second of each implementation. */
export interface ShardLookupResult {
  shards: number;
  wordsLookupsPerSecond: number;
  bigintLookupsPerSecond: number;
  /** wordsLookupsPerSecond / bigintLookupsPerSecond, from the same run. */
  speedup: number;
}

/** Options of {@link runShardLookupBench}. */
export interface ShardLookupBenchOptions {
  /** Shard counts to measure. @default [4, 64, 4096] */
  shardCounts?: readonly number[];
  /** Milliseconds tinybench spends on each task. @default 1000 */
  timeMs?: number;
}

const KEYS_PER_ITERATION = 4096;
const MAX_HASH_KEY = (1n << 128n) - 1n;

/** Runs the benchmark and returns its figures; prints nothing. */
export async function runShardLookupBench(options: ShardLookupBenchOptions = {}): Promise<ShardLookupResult[]> {
  const shardCounts = options.shardCounts ?? [4, 64, 4096];
  const random = createRandom(0x5eed);
  const keyWords = new Uint32Array(KEYS_PER_ITERATION * 4);
  for (let i = 0; i < keyWords.length; i++) keyWords[i] = Math.floor(random() * 0x1_0000_0000);
  const keyBigInts = Array.from({ length: KEYS_PER_ITERATION }, (_, i) => wordsToBigInt(keyWords, i * 4));

  const bench = new Bench({ time: options.timeMs ?? 1000, warmupTime: 200 });
  let sink = 0;
  for (const count of shardCounts) {
    const shards = evenShards(count);
    const map = ShardMap.fromShards(shards);
    const reference = new BigIntShardSearch(shards);
    bench.add(`words ${count}`, () => {
      for (let i = 0; i < KEYS_PER_ITERATION; i++) sink += map.lookup(keyWords, i * 4);
    });
    bench.add(`bigint ${count}`, () => {
      for (let i = 0; i < KEYS_PER_ITERATION; i++) sink += reference.lookup(keyBigInts[i]!);
    });
  }
  await bench.run();
  if (Number.isNaN(sink)) throw new Error('unreachable: keeps the lookups from being optimised away');

  const lookupsPerSecond = (name: string): number => {
    const result = bench.getTask(name)?.result;
    if (result === undefined || !('throughput' in result)) throw new Error(`task ${name} has no result`);
    return result.throughput.p50 * KEYS_PER_ITERATION;
  };
  return shardCounts.map((shards) => {
    const wordsLookupsPerSecond = lookupsPerSecond(`words ${shards}`);
    const bigintLookupsPerSecond = lookupsPerSecond(`bigint ${shards}`);
    return { shards, wordsLookupsPerSecond, bigintLookupsPerSecond, speedup: wordsLookupsPerSecond / bigintLookupsPerSecond };
  });
}

/** The reference: the same binary search over BigInt bounds. */
class BigIntShardSearch {
  readonly #starts: bigint[];
  readonly #ends: bigint[];

  constructor(shards: readonly ShardRange[]) {
    const sorted = [...shards].sort((a, b) => (BigInt(a.startingHashKey) < BigInt(b.startingHashKey) ? -1 : 1));
    this.#starts = sorted.map((s) => BigInt(s.startingHashKey));
    this.#ends = sorted.map((s) => BigInt(s.endingHashKey));
  }

  lookup(key: bigint): number {
    let low = 0;
    let high = this.#starts.length - 1;
    let candidate = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.#starts[middle]! <= key) {
        candidate = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return candidate >= 0 && key <= this.#ends[candidate]! ? candidate : -1;
  }
}

function evenShards(count: number): ShardRange[] {
  const width = (MAX_HASH_KEY + 1n) / BigInt(count);
  return Array.from({ length: count }, (_, i) => ({
    shardId: `shardId-${String(i).padStart(12, '0')}`,
    startingHashKey: (BigInt(i) * width).toString(),
    endingHashKey: (i === count - 1 ? MAX_HASH_KEY : BigInt(i + 1) * width - 1n).toString(),
  }));
}

function wordsToBigInt(words: Uint32Array, offset: number): bigint {
  let value = 0n;
  for (let i = 0; i < 4; i++) value = (value << 32n) | BigInt(words[offset + i]!);
  return value;
}

function formatRate(perSecond: number): string {
  return `${(perSecond / 1e6).toFixed(1)}M/s`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await runShardLookupBench();
  console.log('shards  ShardMap.lookup  BigInt search  speedup');
  for (const r of results) {
    console.log(
      `${String(r.shards).padStart(6)}  ${formatRate(r.wordsLookupsPerSecond).padStart(15)}  ${formatRate(r.bigintLookupsPerSecond).padStart(13)}  ${r.speedup.toFixed(2).padStart(6)}x`,
    );
  }
}
