import { writeFile } from 'node:fs/promises';
import { SHARD_MAX_BYTES_PER_SECOND } from '../../format/limits.js';
import type { CliIo } from '../io.js';
import { type BenchOptions, DEFAULT_SWEEP_OUT, DEFAULT_SWEEP_POINT_SECONDS, describeWorkload, workloadOf } from './bench-options.js';
import { renderSweepHtml, renderSweepSvg } from './chart.js';
import { benchProducer, type BenchRun, type ProducerSettings } from './run-bench.js';
import { type BenchSummary, formatSweep } from './summary.js';
import { sweepPoints } from './sweep.js';
import type { BenchTarget } from './target.js';

/** A sweep offers this share of the shards' byte limit, so that latency shows the settings, not a queue. */
const SWEEP_LOAD_SHARE = 0.8;

/** `kpl bench --sweep`: one run per grid point on a new stream each, then the chart; returns the exit code. */
export async function runSweep(
  options: BenchOptions,
  base: ProducerSettings,
  target: BenchTarget,
  view: BenchRun['view'],
  signal: AbortSignal,
  io: CliIo,
): Promise<number> {
  const out = options.out ?? DEFAULT_SWEEP_OUT;
  // The byte limit of the shards at SWEEP_LOAD_SHARE, for records of this size with their key and aggregation overhead.
  const recordBytes = options.recordSize + 16;
  const points = sweepPoints();
  const results: Array<{ name: string; summary: BenchSummary }> = [];
  for (const [i, point] of points.entries()) {
    if (signal.aborted) break;
    const stream = await target.stream(options.shards);
    const rate = options.rate ?? Math.round((SWEEP_LOAD_SHARE * stream.shards * SHARD_MAX_BYTES_PER_SECOND) / recordBytes);
    const workload = workloadOf(options, stream.shards, DEFAULT_SWEEP_POINT_SECONDS, rate);
    if (i === 0)
      io.stderr.write(
        `kpl bench --sweep: ${points.length} settings, each ${describeWorkload(workload, stream.shards)}, against ${target.description}\n`,
      );
    const summary = await benchProducer(
      target,
      stream,
      { workload, settings: { ...base, ...point.settings }, verify: options.verify, view, signal },
      `${i + 1}/${points.length}`,
    );
    results.push({ name: point.name, summary });
    if (!options.json)
      io.stderr.write(
        `  ${point.name}: ${Math.round(summary.recordsPerSecond).toLocaleString('en-US')} records/s, p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms, lost ${summary.lost}\n`,
      );
  }
  const title = `kpl bench --sweep: ${options.shards} shards, ${options.recordSize} B records, ${results[0]?.summary.offeredRate?.toLocaleString('en-US') ?? '?'} records/s offered`;
  await writeFile(out, out.endsWith('.svg') ? renderSweepSvg(results, title) : renderSweepHtml(results, title));
  const records = results.reduce((sum, r) => sum + r.summary.records, 0);
  const lost = results.reduce((sum, r) => sum + r.summary.lost, 0);
  if (options.json)
    io.stdout.write(`${JSON.stringify({ records, lost, out, points: results.map(({ name, summary }) => ({ name, ...summary })) })}\n`);
  else {
    io.stdout.write(`${formatSweep(results)}\n`);
    io.stdout.write(`\nchart written to ${out}\n`);
  }
  return lost > 0 ? 1 : 0;
}
