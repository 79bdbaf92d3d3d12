import { describe, expect, it } from 'vitest';
import { resolveLimiterOptions } from '../../src/pipeline/limiter-options.js';

const CEILING = { recordsPerSecond: 1500, bytesPerSecond: 1.5 * 1024 * 1024 };

describe('resolveLimiterOptions', () => {
  it('fills in the defaults, rates per millisecond, and scales the adaptive ones to the service limit', () => {
    const resolved = resolveLimiterOptions({ ...CEILING, adaptive: { initialRatio: 100 / 150 } });
    expect(resolved).toMatchObject({
      recordsPerMs: 1.5,
      bytesPerMs: 1.5 * 1024 * 1.024,
      recordCapacity: 1500,
      byteCapacity: 1.5 * 1024 * 1024,
      adaptive: true,
      decreaseFactor: 0.8,
      throttledShareThreshold: 0.02,
    });
    // Shares of the service's limit, which is two thirds of the ceiling: the climb's probe (5 %),
    // catch-up (0.067 %) and cap (8 %) a second at the limit, and the lowest rate (2 %).
    expect(resolved.increasePerMs * 1000).toBeCloseTo(0.05 * (100 / 150));
    expect(resolved.catchUpPerMs * 1000).toBeCloseTo(0.00067 * (100 / 150));
    expect(resolved.maxIncreasePerMs * 1000).toBeCloseTo(0.08 * (100 / 150));
    expect(resolved.minRatio).toBeCloseTo(0.02 * (100 / 150));
  });

  it('is not adaptive without adaptive options, and starts at the ceiling', () => {
    expect(resolveLimiterOptions({ ...CEILING, burstSeconds: 2 })).toMatchObject({
      adaptive: false,
      initialRatio: 1,
      recordCapacity: 3000,
    });
  });

  it.each([
    [{ recordsPerSecond: 0, bytesPerSecond: 1 }, 'recordsPerSecond must be a finite number above 0; got 0'],
    [{ recordsPerSecond: 1, bytesPerSecond: Number.NaN }, 'bytesPerSecond must be a finite number above 0; got NaN'],
    [{ recordsPerSecond: 1, bytesPerSecond: 1, burstSeconds: -1 }, 'burstSeconds must be a finite number above 0; got -1'],
  ])('rejects options %j', (options, message) => {
    expect(() => resolveLimiterOptions(options)).toThrow(message);
  });

  it.each([
    [{ initialRatio: 0 }, 'adaptive.initialRatio must be a number above 0 and at most 1; got 0'],
    [{ initialRatio: 1, decreaseFactor: 1.5 }, 'adaptive.decreaseFactor must be a number above 0 and at most 1; got 1.5'],
    [{ initialRatio: 1, increasePerSecond: 0 }, 'adaptive.increasePerSecond must be a finite number above 0; got 0'],
    [{ initialRatio: 1, minRatio: 2 }, 'adaptive.minRatio must be a number above 0 and at most 1; got 2'],
    [{ initialRatio: 1, catchUpPerSecond: -1 }, 'adaptive.catchUpPerSecond must be a finite number above 0; got -1'],
    [{ initialRatio: 1, maxIncreasePerSecond: Infinity }, 'adaptive.maxIncreasePerSecond must be a finite number above 0; got Infinity'],
    [{ initialRatio: 1, throttledShareThreshold: 1 }, 'adaptive.throttledShareThreshold must be a number from 0 up to below 1; got 1'],
  ])('rejects adaptive options %j', (adaptive, message) => {
    expect(() => resolveLimiterOptions({ ...CEILING, adaptive })).toThrow(message);
  });
});
