import { describe, expect, it } from 'vitest';
import { formatWriters } from '../../src/cli/bench/writers-report.js';
import type { WritersSummary } from '../../src/cli/bench/writers.js';

const summary: WritersSummary = {
  mode: 'writers',
  writers: 3,
  shards: 2,
  durationSeconds: 20,
  records: 1_234_567,
  lost: 0,
  bytesSentPerByteStored: 1.1234,
  windowBytesSentPerByteStored: 1.05,
  throttledPercent: 4.56,
  byteLimitUsedPercent: 99.5,
  warmupSeconds: 5,
  writerSharesPercent: [30, 33, 37],
  shareSpread: 37 / 30,
  writerOfferedPerSecond: [12_000, 13_000, 14_000],
  writerCpuPercent: [12.4, 13.6, 11],
  writerHeldPercent: [90, null, 85],
  loadAverage: [1.5, 2.25],
  writerSummaries: [],
  shardStats: [{ shardId: 'shardId-000000000000', byteLimitUsedPercent: 98.7, finalRatePercent: [33.3, null, 30] }],
};

describe('formatWriters', () => {
  const lines = formatWriters(summary).split('\n');

  it('aligns every value in one column', () => {
    const valueColumns = new Set(lines.map((line) => line.search(/ {3}(?=\S)/u) + 3));
    expect(valueColumns.size).toBe(1);
    expect([...valueColumns][0]).toBeGreaterThan(3);
  });

  it('shows the figures that decide fairness: bytes per byte stored, use, shares and their spread', () => {
    const text = lines.join('\n');
    expect(text).toContain('1,234,567');
    expect(text).toMatch(/bytes sent per byte stored\s+1\.123/u);
    expect(text).toMatch(/from 5 s to 20 s\s+1\.050/u);
    expect(text).toContain('30.0 %, 33.0 %, 37.0 % (largest/smallest 1.23)');
    expect(text).toContain('1.50, 2.25');
  });

  it("shows a writer without a figure as '-', and each shard's use and final rates", () => {
    const text = lines.join('\n');
    expect(text).toMatch(/writer time held by backpressure\s+90 %, -, 85 %/u);
    expect(text).toMatch(/shardId-000000000000 byte limit used\s+98\.7 %/u);
    expect(text).toMatch(/shardId-000000000000 final rate per writer\s+33\.3 %, -, 30\.0 %/u);
  });
});
