import { describe, expect, it } from 'vitest';
import { decodeAggregatedRecord } from '../../src/format/aggregated-record.js';
import { hashPartitionKey } from '../../src/format/hash-key.js';
import { Aggregator, type ClosedAggregate } from '../../src/pipeline/aggregator.js';

const hashKey = new Uint32Array(4);

function setup(options: Partial<{ maxCount: number; maxSize: number; lingerMs: number }> = {}) {
  const closed: Array<ClosedAggregate<number>> = [];
  const aggregator = new Aggregator<number>({ maxCount: 1000, maxSize: 51200, lingerMs: 100, compression: 'none', ...options }, (a) => closed.push(a));
  const add = (shard: number, item: number, data = new Uint8Array(100), now = 0): void => {
    const key = `key-${item}`;
    hashPartitionKey(key, hashKey, 0);
    aggregator.add(shard, item, key, undefined, data, hashKey, 0, now);
  };
  return { aggregator, closed, add };
}

describe('Aggregator', () => {
  it('keeps one open aggregate per shard and never mixes shards', () => {
    const { aggregator, closed, add } = setup();
    for (let i = 0; i < 30; i++) add(i % 3, i);
    expect(aggregator.openCount).toBe(3);
    aggregator.closeAll();
    expect(closed.map((c) => c.shard).sort()).toEqual([0, 1, 2]);
    for (const aggregate of closed) {
      expect(aggregate.items.every((item) => item % 3 === aggregate.shard)).toBe(true);
      const decoded = decodeAggregatedRecord(aggregate.record.data);
      expect(decoded?.records.length).toBe(10);
      expect(aggregate.size).toBe(aggregate.record.data.length + Buffer.byteLength(aggregate.record.partitionKey));
    }
  });

  it('closes on maxCount, and sends an aggregate of one record plain', () => {
    const { closed, add } = setup({ maxCount: 1 });
    add(0, 7);
    expect(closed).toHaveLength(1);
    expect(closed[0]?.record.partitionKey).toBe('key-7');
    expect(closed[0]?.record.data).toHaveLength(100);
  });

  it('closes when the next record would pass maxSize, and starts the next aggregate with it', () => {
    const { closed, add } = setup({ maxSize: 1000 });
    for (let i = 0; i < 20; i++) add(0, i);
    expect(closed.length).toBeGreaterThan(0);
    for (const aggregate of closed) expect(aggregate.size).toBeLessThanOrEqual(1000);
    expect(closed.flatMap((c) => c.items)).toEqual(Array.from({ length: closed.flatMap((c) => c.items).length }, (_, i) => i));
  });

  it('closes aggregates whose oldest record waited lingerMs, in opening order', () => {
    const { aggregator, closed, add } = setup({ lingerMs: 100 });
    add(0, 0, undefined, 0);
    add(1, 1, undefined, 50);
    add(0, 2, undefined, 90);
    expect(aggregator.nextDueTime()).toBe(100);
    aggregator.closeDue(99);
    expect(closed).toHaveLength(0);
    aggregator.closeDue(100);
    expect(closed.map((c) => c.items)).toEqual([[0, 2]]);
    expect(aggregator.nextDueTime()).toBe(150);
    aggregator.closeDue(1000);
    expect(closed.map((c) => c.items)).toEqual([[0, 2], [1]]);
    expect(aggregator.nextDueTime()).toBe(Infinity);
  });

  it('gives records back without encoding them, per shard or all', () => {
    const { aggregator, closed, add } = setup();
    for (let i = 0; i < 6; i++) add(i % 2, i);
    expect(aggregator.takeItems(1)).toEqual([1, 3, 5]);
    expect(aggregator.takeAllItems()).toEqual([0, 2, 4]);
    expect(aggregator.openCount).toBe(0);
    aggregator.closeDue(10_000);
    expect(closed).toHaveLength(0);
  });

  it('sends a multi-record aggregate with the first record\'s hash key, so it lands on the predicted shard', () => {
    const { aggregator, closed, add } = setup();
    add(0, 1);
    add(0, 2);
    aggregator.closeAll();
    hashPartitionKey('key-1', hashKey, 0);
    const expected = ((BigInt(hashKey[0] as number) << 96n) | (BigInt(hashKey[1] as number) << 64n) | (BigInt(hashKey[2] as number) << 32n) | BigInt(hashKey[3] as number)).toString();
    expect(closed[0]?.record.explicitHashKey).toBe(expected);
  });
});
