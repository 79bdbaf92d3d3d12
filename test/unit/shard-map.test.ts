import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShardMap, type ShardRange } from '../../src/pipeline/shard-map.js';
import { hashKeyWords } from '../support/hash-keys.js';

const MAX = (1n << 128n) - 1n;

function range(shardId: string, start: bigint, end: bigint): ShardRange {
  return { shardId, startingHashKey: start.toString(), endingHashKey: end.toString() };
}

/** Even ranges covering the whole key space, as CreateStream makes them. */
function evenShards(count: number): ShardRange[] {
  const width = (MAX + 1n) / BigInt(count);
  return Array.from({ length: count }, (_, i) =>
    range(`shardId-${String(i).padStart(12, '0')}`, BigInt(i) * width, i === count - 1 ? MAX : BigInt(i + 1) * width - 1n),
  );
}

/** The reference: a linear scan with BigInt. */
function referenceLookup(shards: readonly ShardRange[], key: bigint): string | undefined {
  return shards.find((s) => BigInt(s.startingHashKey) <= key && key <= BigInt(s.endingHashKey))?.shardId;
}

function lookupId(map: ShardMap, key: bigint): string | undefined {
  const index = map.lookup(hashKeyWords(key), 0);
  return index < 0 ? undefined : map.shardId(index);
}

describe('ShardMap.fromShards', () => {
  it('sorts shards by starting hash key and indexes them by id', () => {
    const shards = evenShards(4);
    const map = ShardMap.fromShards([shards[2]!, shards[0]!, shards[3]!, shards[1]!]);
    expect(map.size).toBe(4);
    expect([0, 1, 2, 3].map((i) => map.shardId(i))).toEqual(shards.map((s) => s.shardId));
    expect(map.indexOf(shards[3]!.shardId)).toBe(3);
    expect(map.indexOf('shardId-999')).toBe(-1);
  });

  it('gives back each shard with its range', () => {
    const shards = [range('b', 10n, 19n), range('a', 0n, 9n), range('c', 20n, MAX)];
    const map = ShardMap.fromShards(shards);
    expect([0, 1, 2].map((i) => map.shard(i))).toEqual([shards[1], shards[0], shards[2]]);
  });

  it('accepts an empty list, which holds no key', () => {
    const map = ShardMap.fromShards([]);
    expect(map.size).toBe(0);
    expect(map.lookup(hashKeyWords(0n), 0)).toBe(-1);
  });

  it.each([
    [
      'a bound that is not a decimal',
      [range('a', 0n, 5n), { shardId: 'b', startingHashKey: '6x', endingHashKey: '9' }],
      /shard b: startingHashKey must be a decimal integer/,
    ],
    [
      'a bound above 2^128 - 1',
      [{ shardId: 'a', startingHashKey: '0', endingHashKey: (MAX + 1n).toString() }],
      /shard a: endingHashKey must be a decimal integer from 0 to 2\^128 - 1/,
    ],
    ['an empty bound', [{ shardId: 'a', startingHashKey: '', endingHashKey: '5' }], /shard a: startingHashKey/],
    ['a range that ends before it starts', [range('a', 10n, 9n)], /shard a: endingHashKey 9 is below startingHashKey 10/],
    ['overlapping ranges', [range('a', 0n, 10n), range('b', 10n, 20n)], /shards a and b overlap at hash key 10/],
    ['a parent listed with its children', [range('p', 0n, MAX), range('c1', 0n, 99n), range('c2', 100n, MAX)], /overlap/],
    ['a repeated shard id', [range('a', 0n, 10n), range('a', 11n, 20n)], /shard a is listed twice/],
  ])('rejects %s', (_name, shards, message) => {
    expect(() => ShardMap.fromShards(shards)).toThrow(message);
  });

  it('names the valid index range when asked for a shard it does not hold', () => {
    expect(() => ShardMap.fromShards(evenShards(2)).shardId(2)).toThrow('shard index must be from 0 to 1; got 2');
  });
});

describe('ShardMap.lookup', () => {
  it('finds the shard of the extremes 0 and 2^128 - 1 and of every boundary', () => {
    const shards = evenShards(4);
    const map = ShardMap.fromShards(shards);
    expect(lookupId(map, 0n)).toBe(shards[0]!.shardId);
    expect(lookupId(map, MAX)).toBe(shards[3]!.shardId);
    for (const shard of shards) {
      expect(lookupId(map, BigInt(shard.startingHashKey))).toBe(shard.shardId);
      expect(lookupId(map, BigInt(shard.endingHashKey))).toBe(shard.shardId);
    }
  });

  it('holds every key in a single shard spanning the whole space', () => {
    const map = ShardMap.fromShards([range('only', 0n, MAX)]);
    for (const key of [0n, 1n, 1n << 64n, MAX - 1n, MAX]) expect(lookupId(map, key)).toBe('only');
  });

  it('follows uneven ranges, as after splits at arbitrary keys', () => {
    const shards = [
      range('s0', 0n, 0n),
      range('s1', 1n, 0xffff_ffffn),
      range('s2', 0x1_0000_0000n, (1n << 96n) + 12345n),
      range('s3', (1n << 96n) + 12346n, (1n << 127n) - 1n),
      range('s4', 1n << 127n, MAX),
    ];
    const map = ShardMap.fromShards(shards);
    const keys = [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, (1n << 96n) + 12345n, (1n << 96n) + 12346n, (1n << 127n) - 1n, 1n << 127n, MAX];
    for (const key of keys) expect(lookupId(map, key)).toBe(referenceLookup(shards, key));
  });

  it('returns -1 for keys in gaps, below the first shard and above the last', () => {
    const map = ShardMap.fromShards([range('a', 100n, 199n), range('b', 300n, 1n << 100n)]);
    expect(map.lookup(hashKeyWords(0n), 0)).toBe(-1);
    expect(map.lookup(hashKeyWords(99n), 0)).toBe(-1);
    expect(map.lookup(hashKeyWords(200n), 0)).toBe(-1);
    expect(map.lookup(hashKeyWords(299n), 0)).toBe(-1);
    expect(map.lookup(hashKeyWords((1n << 100n) + 1n), 0)).toBe(-1);
    expect(map.lookup(hashKeyWords(MAX), 0)).toBe(-1);
    expect(lookupId(map, 150n)).toBe('a');
    expect(lookupId(map, 300n)).toBe('b');
  });

  it('reads the key at an offset inside a larger array', () => {
    const map = ShardMap.fromShards(evenShards(8));
    const keys = new Uint32Array(12);
    keys.set(hashKeyWords(MAX), 4);
    keys.set(hashKeyWords(0n), 8);
    expect(map.lookup(keys, 4)).toBe(7);
    expect(map.lookup(keys, 8)).toBe(0);
  });

  it('places keys correctly among 4,096 shards', () => {
    const shards = evenShards(4096);
    const map = ShardMap.fromShards(shards);
    expect(map.size).toBe(4096);
    for (let i = 0; i < 4096; i += 97) {
      const shard = shards[i]!;
      expect(map.lookup(hashKeyWords(BigInt(shard.startingHashKey)), 0)).toBe(i);
      expect(map.lookup(hashKeyWords(BigInt(shard.endingHashKey)), 0)).toBe(i);
      expect(map.lookup(hashKeyWords((BigInt(shard.startingHashKey) + BigInt(shard.endingHashKey)) / 2n), 0)).toBe(i);
    }
    expect(map.lookup(hashKeyWords(MAX), 0)).toBe(4095);
  });

  it.each([
    ['spread over the whole key space', fc.bigInt({ min: 0n, max: MAX })],
    // Shards narrower than 2^96 share the top word of their keys, which the search handles apart.
    ['packed into a narrow band, sharing top words', fc.bigInt({ min: (5n << 96n) - (1n << 70n), max: (5n << 96n) + (1n << 70n) })],
  ])('agrees with a BigInt reference on random uneven maps with gaps, %s', (_name, key) => {
    const layout = fc.record({
      cuts: fc.uniqueArray(key, { minLength: 1, maxLength: 64 }),
      gapEvery: fc.integer({ min: 0, max: 4 }),
      probes: fc.array(key, { maxLength: 32 }),
    });
    fc.assert(
      fc.property(layout, ({ cuts, gapEvery, probes }) => {
        const sorted = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        // Consecutive cuts bound the ranges; every gapEvery-th range is left out to make a gap.
        const shards: ShardRange[] = [];
        let start = 0n;
        sorted.forEach((cut, i) => {
          if (cut >= start && (gapEvery === 0 || i % gapEvery !== 0)) shards.push(range(`s${i}`, start, cut));
          start = cut + 1n;
        });
        if (start <= MAX) shards.push(range('last', start, MAX));
        const map = ShardMap.fromShards(shards.reverse());
        const boundaryProbes = shards.flatMap((s) => [BigInt(s.startingHashKey), BigInt(s.endingHashKey)]);
        for (const probe of [...probes, ...boundaryProbes, ...sorted.map((c) => (c === MAX ? c : c + 1n)), 0n, MAX]) {
          expect(lookupId(map, probe)).toBe(referenceLookup(shards, probe));
        }
      }),
      { numRuns: 300 },
    );
  });
});
