import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AggregateBuilder, decodeAggregatedRecord } from '../../src/format/aggregated-record.js';
import { hashKeyToDecimal, hashPartitionKey, parseHashKey } from '../../src/format/hash-key.js';
import { type AggregatedItem, Aggregator, type ClosedAggregate } from '../../src/pipeline/aggregator.js';

interface Item extends AggregatedItem {
  readonly id: number;
}

const hashKey = new Uint32Array(4);

function hashKeyOf(item: AggregatedItem, out: Uint32Array, offset: number): void {
  if (item.explicitHashKey !== undefined) parseHashKey(item.explicitHashKey, out, offset);
  else hashPartitionKey(item.partitionKey, out, offset);
}

function setup(options: Partial<{ maxCount: number; maxSize: number; lingerMs: number }> = {}) {
  const closed: Array<ClosedAggregate<Item>> = [];
  const aggregator = new Aggregator<Item>(
    { maxCount: 1000, maxSize: 51200, lingerMs: 100, compression: 'none', hashKeyOf, ...options },
    (a) => closed.push(a),
  );
  const addItem = (shard: number, item: Item, now = 0, expiresAt = now + 30_000): void => {
    hashKeyOf(item, hashKey, 0);
    aggregator.add(shard, item, hashKey, 0, now, expiresAt);
  };
  const add = (shard: number, id: number, data = new Uint8Array(100), now = 0): void => {
    addItem(shard, { id, partitionKey: `key-${id}`, explicitHashKey: undefined, data }, now);
  };
  return { aggregator, closed, add, addItem };
}

const ids = (items: readonly Item[]): number[] => items.map((item) => item.id);

/** The decimal hash key a multi-record aggregate must be sent with: its first record's. */
function firstHashKey(aggregate: ClosedAggregate<Item>): string {
  hashKeyOf(aggregate.items[0] as Item, hashKey, 0);
  return hashKeyToDecimal(hashKey, 0);
}

describe('Aggregator', () => {
  it('gives a closed aggregate the earliest deadline of its records', () => {
    const { aggregator, closed, addItem } = setup();
    const item = (id: number): Item => ({ id, partitionKey: `key-${id}`, explicitHashKey: undefined, data: new Uint8Array(10) });
    addItem(0, item(1), 0, 5_000);
    addItem(0, item(2), 1, 3_000);
    addItem(0, item(3), 2, 9_000);
    addItem(1, item(4), 3, 7_000);
    aggregator.closeAll();
    expect(closed.map((aggregate) => [aggregate.shard, aggregate.expiresAt])).toEqual([
      [0, 3_000],
      [1, 7_000],
    ]);
  });

  it('keeps one open aggregate per shard and never mixes shards', () => {
    const { aggregator, closed, add } = setup();
    for (let i = 0; i < 30; i++) add(i % 3, i);
    expect(aggregator.openCount).toBe(3);
    aggregator.closeAll();
    expect(closed.map((c) => c.shard).sort()).toEqual([0, 1, 2]);
    for (const aggregate of closed) {
      expect(aggregate.items.every((item) => item.id % 3 === aggregate.shard)).toBe(true);
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
    const sent = closed.flatMap((c) => ids(c.items));
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, i) => i));
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
    expect(closed.map((c) => ids(c.items))).toEqual([[0, 2]]);
    expect(aggregator.nextDueTime()).toBe(150);
    aggregator.closeDue(1000);
    expect(closed.map((c) => ids(c.items))).toEqual([[0, 2], [1]]);
    expect(aggregator.nextDueTime()).toBe(Infinity);
  });

  it('gives records back without encoding them, per shard or all', () => {
    const { aggregator, closed, add } = setup();
    for (let i = 0; i < 6; i++) add(i % 2, i);
    expect(ids(aggregator.takeItems(1))).toEqual([1, 3, 5]);
    expect(ids(aggregator.takeAllItems())).toEqual([0, 2, 4]);
    expect(aggregator.openCount).toBe(0);
    aggregator.closeDue(10_000);
    expect(closed).toHaveLength(0);
  });

  it("sends a multi-record aggregate with the first record's hash key, so it lands on the predicted shard", () => {
    const { aggregator, closed, add } = setup();
    add(0, 1);
    add(0, 2);
    aggregator.closeAll();
    hashPartitionKey('key-1', hashKey, 0);
    const expected = (
      (BigInt(hashKey[0] as number) << 96n) |
      (BigInt(hashKey[1] as number) << 64n) |
      (BigInt(hashKey[2] as number) << 32n) |
      BigInt(hashKey[3] as number)
    ).toString();
    expect(closed[0]?.record.explicitHashKey).toBe(expected);
  });

  it('packs repeated keys as tightly as distinct ones: an aggregate closed for size could not take the next record', () => {
    const { aggregator, closed, addItem } = setup({ maxSize: 2000 });
    const data = new Uint8Array(40);
    for (let i = 0; i < 400; i++) addItem(0, { id: i, partitionKey: `device-${i % 3}`, explicitHashKey: undefined, data });
    aggregator.closeAll();
    const perKeyBytes = 1 + 1 + 'device-0'.length;
    // Counted as new, each key would cost 10 bytes more a record: aggregates would close about a fifth emptier.
    expect(closed.length).toBeLessThan(Math.ceil((400 * (data.length + 4 + perKeyBytes)) / 2000));
    expectExactlyPacked(closed, 2000);
  });

  it('sends the records that keys longer in UTF-8 than their length leave over in the next aggregate, with its own first hash key', () => {
    const { aggregator, closed, addItem } = setup({ maxSize: 600, lingerMs: 100 });
    const data = new Uint8Array(10);
    // 40 characters, 80 bytes in UTF-8: the estimate counts half of each key.
    for (let i = 0; i < 12; i++)
      addItem(0, { id: i, partitionKey: `${'é'.repeat(38)}${String(i).padStart(2, '0')}`, explicitHashKey: undefined, data }, i);
    expect(closed.length).toBeGreaterThan(0);
    aggregator.closeDue(99);
    const beforeDeadline = closed.length;
    aggregator.closeDue(100);
    expect(closed.length).toBeGreaterThan(beforeDeadline);
    expect(closed.flatMap((c) => ids(c.items))).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const aggregate of closed) {
      expect(aggregate.size).toBeLessThanOrEqual(600);
      if (aggregate.items.length > 1) expect(aggregate.record.explicitHashKey).toBe(firstHashKey(aggregate));
    }
    expectExactlyPacked(closed, 600);
  });

  it('sends every record, in order and exactly packed, for any keys, sizes and shards', () => {
    const key = fc.oneof(
      fc.constantFrom('device-1', 'device-2', 'é', '\u{1F600}-sensor', 'x'.repeat(140)),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
    );
    // Mostly a few shards, so that aggregates fill; sometimes up to 64, so that the per-shard tables
    // grow while aggregates of lower shards are open.
    const record = fc.record({
      shard: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 3 }), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 63 }), weight: 1 }),
      partitionKey: key,
      explicitHashKey: fc.option(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }).map(String), { nil: undefined, freq: 4 }),
      bytes: fc.integer({ min: 0, max: 700 }),
    });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 300 }), fc.integer({ min: 120, max: 4000 }), (records, maxSize) => {
        const { aggregator, closed, addItem } = setup({ maxSize });
        records.forEach((r, id) =>
          addItem(r.shard, {
            id,
            partitionKey: r.partitionKey,
            explicitHashKey: r.explicitHashKey,
            data: new Uint8Array(r.bytes).fill(id & 0xff),
          }),
        );
        aggregator.closeAll();
        for (let shard = 0; shard <= 63; shard++) {
          const expected = records
            .map((r, id) => ({ ...r, id }))
            .filter((r) => r.shard === shard)
            .map((r) => r.id);
          expect(closed.filter((c) => c.shard === shard).flatMap((c) => ids(c.items))).toEqual(expected);
        }
        for (const aggregate of closed) {
          expect(aggregate.size).toBe(aggregate.record.data.length + Buffer.byteLength(aggregate.record.partitionKey));
          if (aggregate.items.length > 1) {
            expect(aggregate.size).toBeLessThanOrEqual(maxSize);
            expect(aggregate.record.explicitHashKey).toBe(firstHashKey(aggregate));
            const decoded = decodeAggregatedRecord(aggregate.record.data);
            expect(decoded?.records.map((r) => r.data.length)).toEqual(aggregate.items.map((item) => item.data.length));
          }
        }
        expectExactlyPacked(closed, maxSize);
      }),
      { numRuns: 150 },
    );
  });
});

/** Every aggregate but each shard's last was closed for size: the first record of the next one must not have fitted. */
function expectExactlyPacked(closed: ReadonlyArray<ClosedAggregate<Item>>, maxSize: number): void {
  const byShard = new Map<number, Array<ClosedAggregate<Item>>>();
  for (const aggregate of closed) byShard.set(aggregate.shard, [...(byShard.get(aggregate.shard) ?? []), aggregate]);
  for (const aggregates of byShard.values()) {
    for (let i = 0; i + 1 < aggregates.length; i++) {
      const builder = new AggregateBuilder();
      for (const item of (aggregates[i] as ClosedAggregate<Item>).items) {
        expect(builder.tryAdd(item.partitionKey, item.explicitHashKey, item.data, maxSize)).toBe(true);
      }
      const next = (aggregates[i + 1] as ClosedAggregate<Item>).items[0] as Item;
      expect(builder.tryAdd(next.partitionKey, next.explicitHashKey, next.data, maxSize)).toBe(false);
    }
  }
}
