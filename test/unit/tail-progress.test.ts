import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/tail/progress.js';

describe('kpl tail progress line', () => {
  it('gives lines read, records delivered and the files furthest behind', () => {
    const delivery = { delivered: 11_950, failed: 0, retried: 0 };
    expect(progressLine(12_000, delivery, [{ path: '/a.log', bytes: 0 }])).toBe(
      '12,000 lines read, 11,950 records delivered, 0 failed; no file behind',
    );
    const behind = Array.from({ length: 7 }, (_, i) => ({ path: `/f${i}.log`, bytes: (i + 1) * 1000 }));
    expect(progressLine(5, { delivered: 5, failed: 1, retried: 2 }, behind)).toBe(
      '5 lines read, 5 records delivered, 1 failed, 2 retried; behind: /f6.log 7,000 B, /f5.log 6,000 B, /f4.log 5,000 B, /f3.log 4,000 B, /f2.log 3,000 B and 2 more files',
    );
  });
});
