import { describe, expect, it } from 'vitest';
import { type Batch, Collector } from '../../src/pipeline/collector.js';

interface Entry {
  size: number;
  oldestAt: number;
  expiresAt: number;
  id: number;
}

function setup(maxCount = 500, maxSize = 5 * 1024 * 1024, lingerMs = 100) {
  const batches: Array<Batch<Entry>> = [];
  const collector = new Collector<Entry>({ maxCount, maxSize, lingerMs }, (b) => batches.push(b));
  return { collector, batches };
}

describe('Collector', () => {
  it('gives a batch the earliest deadline of its entries', () => {
    const { collector, batches } = setup();
    collector.add({ size: 10, oldestAt: 0, expiresAt: 900, id: 0 });
    collector.add({ size: 10, oldestAt: 0, expiresAt: 400, id: 1 });
    collector.closeAll();
    collector.add({ size: 10, oldestAt: 0, expiresAt: 700, id: 2 });
    collector.closeAll();
    expect(batches.map((batch) => batch.expiresAt)).toEqual([400, 700]);
  });

  it('emits a batch when it is full by count', () => {
    const { collector, batches } = setup(3);
    for (let id = 0; id < 7; id++) collector.add({ expiresAt: Infinity, size: 10, oldestAt: 0, id });
    expect(batches.map((b) => b.entries.map((e) => e.id))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(collector.count).toBe(1);
  });

  it('sends a record larger than collectionMaxSize alone, so that no request is over 10 MiB', () => {
    const MiB = 1024 * 1024;
    const { collector, batches } = setup();
    collector.add({ expiresAt: Infinity, size: 1000, oldestAt: 0, id: 0 });
    collector.add({ expiresAt: Infinity, size: 10 * MiB, oldestAt: 0, id: 1 });
    collector.add({ expiresAt: Infinity, size: 4 * MiB, oldestAt: 0, id: 2 });
    collector.add({ expiresAt: Infinity, size: 7 * MiB, oldestAt: 0, id: 3 });
    collector.add({ expiresAt: Infinity, size: 1000, oldestAt: 0, id: 4 });
    collector.closeAll();
    expect(batches.map((b) => b.entries.map((e) => e.id))).toEqual([[0], [1], [2], [3], [4]]);
    for (const batch of batches) expect(batch.size).toBeLessThanOrEqual(10 * MiB);
  });

  it('never lets a batch pass its byte limit', () => {
    const { collector, batches } = setup(500, 100_000);
    for (let id = 0; id < 10; id++) collector.add({ expiresAt: Infinity, size: 30_000, oldestAt: 0, id });
    for (const batch of batches) expect(batch.size).toBeLessThanOrEqual(100_000);
    expect(batches[0]?.entries).toHaveLength(3);
  });

  it('caps count and size at the PutRecords limits whatever the options say', () => {
    const { collector, batches } = setup(10_000, 100 * 1024 * 1024);
    for (let id = 0; id < 501; id++) collector.add({ expiresAt: Infinity, size: 1, oldestAt: 0, id });
    expect(batches[0]?.entries).toHaveLength(500);
    for (let id = 0; id < 6; id++) collector.add({ expiresAt: Infinity, size: 1024 * 1024, oldestAt: 0, id });
    expect(batches[1]?.size).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it('emits when the oldest record has waited lingerMs', () => {
    const { collector, batches } = setup();
    collector.add({ expiresAt: Infinity, size: 10, oldestAt: 50, id: 1 });
    collector.add({ expiresAt: Infinity, size: 10, oldestAt: 20, id: 2 });
    expect(collector.nextDueTime()).toBe(120);
    collector.closeDue(119);
    expect(batches).toHaveLength(0);
    collector.closeDue(120);
    expect(batches).toHaveLength(1);
    expect(collector.nextDueTime()).toBe(Infinity);
  });

  it('gives its open batch back without emitting it', () => {
    const { collector, batches } = setup();
    collector.add({ expiresAt: Infinity, size: 10, oldestAt: 0, id: 1 });
    expect(collector.takeAll().map((e) => e.id)).toEqual([1]);
    collector.closeAll();
    expect(batches).toHaveLength(0);
  });
});
