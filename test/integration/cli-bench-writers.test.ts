import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WritersSummary } from '../../src/cli/bench/writers.js';
import { compileCli, type CompiledCli, finished, spawnKpl } from '../support/compiled-cli.js';

/**
 * `kpl bench --writers 3`: three producer processes with the producer's defaults on one 2-shard
 * stream of the limits-enforcing local Kinesis. Compiled into a temporary directory
 * (test/support/compiled-cli.ts), since each writer is a `kpl` process.
 */
describe('kpl bench --writers', () => {
  let cli: CompiledCli;

  beforeAll(async () => {
    cli = await compileCli();
  }, 120_000);

  afterAll(async () => {
    await cli?.remove();
  });

  async function bench(args: readonly string[]): Promise<WritersSummary> {
    const { code, stdout, stderr } = await finished(spawnKpl(cli.main, ['bench', ...args, '--json', '--quiet']));
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    return JSON.parse(lines[lines.length - 1] as string) as WritersSummary;
  }

  it('three writers with the defaults share two shards, none starved, fill them, and send little twice', async () => {
    const summary = await bench(['--writers', '3', '--shards', '2', '--duration', '18']);
    expect(summary.lost).toBe(0);
    expect(summary.records).toBeGreaterThan(0);
    expect(summary.bytesSentPerByteStored).toBeLessThanOrEqual(1.15);
    // The shards are filled from 5 s on, once the writers found their shares. Where the machine
    // starved the writers (under a heavily loaded run, 74 to 88 % was measured), a writer spends
    // less than half its run held by its producer's backpressure: its CPU, not its shards' rates,
    // set its pace, and the shards' use then says nothing of the limiter. What does, whatever the
    // load: the rates the writers' limiters allowed each shard at the end add up to most of it.
    const pacedByProducers = summary.writerHeldPercent.every((held) => held !== null && held >= 50);
    for (const shard of summary.shardStats) {
      expect(shard.byteLimitUsedPercent, shard.shardId).toBeGreaterThanOrEqual(pacedByProducers ? 90 : 60);
      const allowed = shard.finalRatePercent.reduce((sum: number, rate) => sum + (rate ?? 0), 0);
      expect(allowed, `${shard.shardId} final rates ${shard.finalRatePercent.join(', ')}`).toBeGreaterThanOrEqual(80);
    }
    // Issue 11 asks for shares within 25 % of each other (a spread of 1.25). The bench meets it in
    // most runs, not all: the spread moves from run to run (1.02 to 1.31, median 1.09, 23 of 24 runs
    // of 18 s within 1.25; BENCHMARKS.md), more so on a loaded machine. A single run here can only show
    // that no writer is starved: each stores at least a fifth of the bytes (a fair share is a third).
    for (const share of summary.writerSharesPercent)
      expect(share, `shares ${summary.writerSharesPercent.join(', ')}`).toBeGreaterThanOrEqual(20);
    // Every writer reports what it offered, its CPU and its time held by backpressure, so that a
    // writer short of CPU shows.
    for (const perWriter of [summary.writerOfferedPerSecond, summary.writerCpuPercent, summary.writerHeldPercent]) {
      expect(perWriter).toHaveLength(3);
      for (const value of perWriter) expect(value).toBeGreaterThan(0);
    }
    expect(summary.loadAverage).toHaveLength(2);
    // Every writer reports the rate each shard ended at.
    for (const shard of summary.shardStats) {
      expect(shard.finalRatePercent).toHaveLength(3);
      for (const rate of shard.finalRatePercent) expect(rate).toBeGreaterThan(0);
    }
  }, 180_000);
});
