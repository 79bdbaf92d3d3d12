/**
 * The spool on this machine's disk: records appended and made durable per second, for 100 B and
 * 1 KiB payloads, with the default group commit (one fsync at most every 100 ms) and with an fsync
 * for every record (each append waits for its own sync before the next); and records read back and
 * acknowledged per second. CPU time per record comes from process.cpuUsage, which other processes
 * on a shared machine do not inflate the way they inflate wall time.
 *
 *   npm run build && node dist/bench/spool.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SPOOL_DEFAULTS, Spool } from '../src/spool/spool.js';

/** One measured scenario. */
export interface SpoolBenchResult {
  scenario: string;
  payloadBytes: number;
  records: number;
  recordsPerSecond: number;
  /** Megabytes (10^6) of payload per second. */
  megabytesPerSecond: number;
  /** CPU time of this process per record, µs. */
  cpuMicrosPerRecord: number;
}

/** Options of {@link runSpoolBench}. */
export interface SpoolBenchOptions {
  /** Payload sizes. @default [100, 1024] */
  readonly payloadSizes?: readonly number[];
  /** Records appended with group commit, per size. @default 200,000 for 100 B, scaled down for larger */
  readonly groupCommitRecords?: number;
  /** Most records, and most seconds, for sync on every record. @default 3,000 and 3 s */
  readonly syncEachRecords?: number;
  readonly syncEachSeconds?: number;
  /** Directory to put the spools in (a temporary one inside it each run). @default the OS temp directory */
  readonly directory?: string;
}

const CHUNK = 10_000;

/** Runs every scenario and returns its figures; prints nothing. */
export async function runSpoolBench(options: SpoolBenchOptions = {}): Promise<SpoolBenchResult[]> {
  const results: SpoolBenchResult[] = [];
  for (const size of options.payloadSizes ?? [100, 1024]) {
    const count = options.groupCommitRecords ?? Math.round(200_000 * Math.min(1, 200 / size));
    results.push(
      await measure(`append, group commit (${SPOOL_DEFAULTS.syncIntervalMs} ms)`, size, options.directory, async (spool, payload) => {
        // Appends keep coming while a sync runs, as from a busy producer: the wall time ends at the last sync.
        for (let done = 0; done < count; done += CHUNK) {
          for (let i = 0; i < Math.min(CHUNK, count - done); i++) spool.append(payload);
          await new Promise(setImmediate);
        }
        await spool.durable();
        return count;
      }),
    );
    results.push(
      await measure(
        'append, fsync every record',
        size,
        options.directory,
        async (spool, payload) => {
          const deadline = performance.now() + (options.syncEachSeconds ?? 3) * 1000;
          const most = options.syncEachRecords ?? 3000;
          let done = 0;
          while (done < most && performance.now() < deadline) {
            spool.append(payload);
            await spool.durable();
            done++;
          }
          return done;
        },
        0,
      ),
    );
    results.push(await measureReadBack(size, count, options.directory));
  }
  return results;
}

async function measure(
  scenario: string,
  payloadBytes: number,
  parent: string | undefined,
  body: (spool: Spool, payload: Buffer) => Promise<number>,
  syncIntervalMs?: number,
): Promise<SpoolBenchResult> {
  const directory = mkdtempSync(join(parent ?? tmpdir(), 'kpl-spool-bench-'));
  try {
    const spool = Spool.open({ directory, ...(syncIntervalMs !== undefined ? { syncIntervalMs } : {}) });
    const payload = Buffer.alloc(payloadBytes, 'x');
    const cpu = process.cpuUsage();
    const start = performance.now();
    const records = await body(spool, payload);
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    await spool.close();
    return result(scenario, payloadBytes, records, seconds, used);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function measureReadBack(payloadBytes: number, count: number, parent: string | undefined): Promise<SpoolBenchResult> {
  const directory = mkdtempSync(join(parent ?? tmpdir(), 'kpl-spool-bench-'));
  try {
    const spool = Spool.open({ directory });
    const payload = Buffer.alloc(payloadBytes, 'x');
    for (let i = 0; i < count; i++) spool.append(payload);
    await spool.durable();
    const cpu = process.cpuUsage();
    const start = performance.now();
    let records = 0;
    for (;;) {
      const entries = await spool.read(500, 1024 * 1024);
      if (entries.length === 0) break;
      for (const entry of entries) spool.acknowledge(entry.sequence, 'delivered');
      records += entries.length;
    }
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    await spool.close();
    return result('read back and acknowledge', payloadBytes, records, seconds, used);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function result(scenario: string, payloadBytes: number, records: number, seconds: number, cpu: NodeJS.CpuUsage): SpoolBenchResult {
  return {
    scenario,
    payloadBytes,
    records,
    recordsPerSecond: records / seconds,
    megabytesPerSecond: (records * payloadBytes) / seconds / 1e6,
    cpuMicrosPerRecord: (cpu.user + cpu.system) / records,
  };
}

/** The figures as a table. */
export function formatSpoolBench(results: readonly SpoolBenchResult[]): string {
  const rows = [['scenario', 'payload', 'records', 'records/s', 'MB/s', 'CPU µs/record']];
  for (const r of results) {
    rows.push([
      r.scenario,
      `${r.payloadBytes} B`,
      r.records.toLocaleString('en-US'),
      Math.round(r.recordsPerSecond).toLocaleString('en-US'),
      r.megabytesPerSecond.toFixed(1),
      r.cpuMicrosPerRecord.toFixed(2),
    ]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  return rows
    .map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  '))
    .join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${formatSpoolBench(await runSpoolBench())}\n`);
}
