import { describe, expect, it } from 'vitest';
import { measureInherentCosts } from '../../bench/support/inherent-costs.js';
import { PromiseFloor } from '../../bench/support/promise-floor.js';

describe("the pipeline bench's floor and ceiling", () => {
  it('PromiseFloor settles each promise once the window has moved past it, and everything on flush', async () => {
    const floor = new PromiseFloor(10, 4);
    const settled: number[] = [];
    const data = new Uint8Array(1);
    for (let i = 0; i < 12; i++) void floor.add({ partitionKey: `k${i}`, data }).then((result) => settled.push(result.subSequenceNumber));
    expect(floor.outstandingRecords).toBe(12);
    await floor.ready();
    await Promise.resolve();
    expect(floor.outstandingRecords).toBe(8);
    expect(settled).toEqual([0, 1, 2, 3]);
    await floor.flush();
    await new Promise(setImmediate);
    expect(floor.outstandingRecords).toBe(0);
    expect(settled).toHaveLength(12);
  });

  it('measureInherentCosts gives a positive time per record for each computation', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `device-${i}`);
    for (const recordBytes of [100, 1024]) {
      const costs = measureInherentCosts(keys, recordBytes);
      for (const value of Object.values(costs)) {
        expect(Number.isFinite(value)).toBe(true);
        expect(value).toBeGreaterThan(0);
      }
    }
  });
});
