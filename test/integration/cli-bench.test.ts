import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { testIo } from './cli-io.js';

/** The JSON object on the last line of stdout. */
function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
}

// From the TypeScript source the embedded local Kinesis runs in this process (there is no compiled
// `kpl` to start as a child); cli-process.test.ts runs the compiled command.
describe('kpl bench', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-bench-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('--json prints the summary as one JSON object on the last line, nothing lost on read-back', async () => {
    const { io, stdout } = testIo();
    const exitCode = await runCli(['bench', '--records', '5000', '--json', '--verify', '--quiet'], io);
    expect(exitCode).toBe(0);
    const summary = lastJsonLine(stdout());
    expect(summary).toMatchObject({ mode: 'kinesis-kpl', shards: 4, recordSize: 100, records: 5000, delivered: 5000, lost: 0 });
    expect(summary['readBack']).toEqual({ found: 5000, missing: 0, duplicates: 0 });
    for (const key of [
      'recordsPerSecond',
      'bytesPerSecond',
      'userRecordsPerKinesisRecord',
      'putRecordsPerSecond',
      'throttledPercent',
      'peakRssBytes',
      'cpuPercent',
      'heldPercent',
    ]) {
      expect(summary[key], key).toBeTypeOf('number');
    }
    expect(summary['userRecordsPerKinesisRecord']).toBeGreaterThan(10);
    expect(Object.keys(summary['latencyMs'] as object)).toEqual(expect.arrayContaining(['p50', 'p90', 'p99']));
  });

  it('--compare-plain runs plain PutRecords on the same workload, one Kinesis record per user record', async () => {
    const { io, stdout } = testIo();
    const exitCode = await runCli(['bench', '--records', '3000', '--shards', '2', '--compare-plain', '--json', '--quiet'], io);
    expect(exitCode).toBe(0);
    const summary = lastJsonLine(stdout());
    expect(summary).toMatchObject({ lost: 0, records: 3000 });
    expect(summary['plain']).toMatchObject({ mode: 'plain PutRecords', records: 3000, lost: 0, userRecordsPerKinesisRecord: 1 });
  });

  it('prints the summary as a table without --json', async () => {
    const { io, stdout } = testIo();
    expect(await runCli(['bench', '--records', '2000', '--shards', '1', '--metrics-level', 'none'], io)).toBe(0);
    expect(stdout()).toMatch(/records lost\s+0/);
    // Without metrics the Kinesis-side figures are not known.
    expect(stdout()).toMatch(/PutRecords calls\/s\s+-/);
  });

  it('--sweep runs every setting and writes a self-contained SVG chart', async () => {
    const out = path.join(directory, 'sweep.svg');
    const { io, stdout } = testIo();
    const exitCode = await runCli(['bench', '--sweep', '--records', '1000', '--shards', '1', '--out', out, '--json', '--quiet'], io);
    expect(exitCode).toBe(0);
    const result = lastJsonLine(stdout());
    expect(result).toMatchObject({ records: 11_000, lost: 0, out });
    const points = result['points'] as Array<{ name: string; settings: Record<string, unknown> }>;
    expect(points.map((point) => point.settings['recordMaxBufferedTime'])).toContain(500);
    expect(points.some((point) => point.settings['aggregation'] === false)).toBe(true);
    const svg = await readFile(out, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).not.toMatch(/<script|href=/);
    expect(svg).toContain('linger 500 ms, aggregates 256 KiB');
  });

  it.each([
    [['bench', '--out', 'x.svg'], 'kpl: error: --out is where --sweep writes its chart; add --sweep\n'],
    [
      ['bench', '--records', '10', '--duration', '5'],
      "kpl: error: option '--duration <seconds>' cannot be used with option '--records <n>'\n",
    ],
    [['bench', '--endpoint', 'http://127.0.0.1:1'], 'kpl: error: --endpoint needs --stream: the stream to write to there\n'],
    [
      ['bench', '--metrics-level', 'all'],
      "kpl: error: option '--metrics-level <level>' argument 'all' is invalid. Allowed choices are none, summary, detailed.\n",
    ],
  ])('%j is a usage error: one line, exit 2', async (argv, message) => {
    const { io, stderr, stdout } = testIo();
    expect(await runCli(argv, io)).toBe(2);
    expect(stderr()).toBe(message);
    expect(stdout()).toBe('');
  });
});
