import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { frameBytes } from '../../../src/spool/frame.js';
import { AppendTimeline } from '../../../src/spool/oldest-record.js';
import { registerSpoolMetrics } from '../../../src/spool/spool-metrics.js';
import type { Spool } from '../../../src/spool/spool.js';
import { appendRecords, readAll, SpoolFixture } from './helpers.js';

const fixture = new SpoolFixture();
afterEach(() => fixture.cleanUp());

describe('AppendTimeline', () => {
  it('keeps one mark per resolution and gives the last mark at or below a sequence', () => {
    const timeline = new AppendTimeline(1000);
    for (let sequence = 0; sequence < 30; sequence++) timeline.appended(sequence, 10_000 + sequence * 100);
    expect(timeline.appendedAtOf(0)).toBe(10_000);
    expect(timeline.appendedAtOf(9)).toBe(10_000);
    expect(timeline.appendedAtOf(10)).toBe(11_000);
    expect(timeline.appendedAtOf(25)).toBe(12_000);
  });

  it('takes an exact mark whatever the resolution, and forgets marks passed', () => {
    const timeline = new AppendTimeline(1000);
    timeline.mark(3, 500);
    timeline.mark(7, 600);
    timeline.appended(9, 700);
    expect(timeline.appendedAtOf(5)).toBe(500);
    timeline.passed(8);
    expect(timeline.appendedAtOf(3)).toBe(600);
  });

  it('keeps its marks bounded while records are done', () => {
    const timeline = new AppendTimeline(1);
    for (let sequence = 0; sequence < 100_000; sequence++) {
      timeline.appended(sequence, sequence);
      timeline.passed(sequence);
    }
    expect(timeline.appendedAtOf(99_999)).toBe(99_999);
  });

  it('is a second, or coarser so that 100,000 marks span maxAgeMs', () => {
    expect(AppendTimeline.resolutionFor(60_000)).toBe(1000);
    expect(AppendTimeline.resolutionFor(7 * 24 * 3600 * 1000)).toBe(6048);
  });
});

async function ageSeconds(spool: Spool, now: number): Promise<number> {
  const registry = new Registry();
  registerSpoolMetrics(
    registry,
    () => spool.stats,
    () => now,
  );
  const metric = (await registry.getMetricsAsJSON()).find((each) => each.name === 'kpl_spool_oldest_record_age_seconds');
  return (metric as unknown as { values: { value: number }[] }).values[0]?.value ?? NaN;
}

describe('the spool oldest record age', () => {
  it('is 0 once everything is delivered, and comes from the records held, not the segment', async () => {
    let now = 1_000_000;
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1, now: () => now });
    expect(await ageSeconds(spool, now)).toBe(0);
    const [first] = await appendRecords(spool, 1);
    now += 60_000;
    expect(await ageSeconds(spool, now)).toBe(60);
    spool.acknowledge(first as number, 'delivered');
    expect(spool.stats.oldestAppendedAt).toBeUndefined();
    expect(await ageSeconds(spool, now)).toBe(0);
    now += 60_000;
    await appendRecords(spool, 1, 0, 1);
    now += 5_000;
    expect(await ageSeconds(spool, now)).toBe(5);
  });

  it('after a restart comes from the records recovered, not from those already done', async () => {
    const directory = fixture.directory();
    let now = 1_000_000;
    const payload = 20;
    const first = fixture.open({ directory, syncIntervalMs: 1, segmentBytes: frameBytes(payload) * 4, now: () => now });
    const sequences: number[] = [];
    for (let i = 0; i < 10; i++) {
      sequences.push(...(await appendRecords(first, 1, payload, i)));
      now += 10_000;
    }
    for (const sequence of sequences.slice(0, 6)) first.acknowledge(sequence, 'delivered');
    await first.close();
    const reopened = fixture.open({ directory, syncIntervalMs: 1, now: () => now });
    expect(reopened.stats.records).toBe(4);
    expect(reopened.stats.oldestAppendedAt).toBe(1_000_000 + 6 * 10_000);
    const held = await readAll(reopened);
    reopened.acknowledge(held[0]?.sequence as number, 'delivered');
    reopened.acknowledge(held[1]?.sequence as number, 'delivered');
    expect(reopened.stats.oldestAppendedAt).toBe(1_000_000 + 8 * 10_000);
    reopened.acknowledge(held[2]?.sequence as number, 'delivered');
    reopened.acknowledge(held[3]?.sequence as number, 'delivered');
    expect(reopened.stats.oldestAppendedAt).toBeUndefined();
  });
});
