/**
 * `npm run bench [-- NAME...]`: runs the named bench scenarios in turn, or all of them, and prints
 * each one's figures. A scenario whose module is not there (yet) is skipped with a note.
 *
 *   npm run bench                      every scenario
 *   npm run bench -- codec metrics     these two
 *   npm run bench -- --list            the names
 */
import { processIo } from '../src/cli/io.js';
import { runCli } from '../src/cli/program.js';

/** A scenario: its module (relative to this file), the function running it, and the one formatting its result. */
interface Scenario {
  readonly description: string;
  readonly module: string;
  readonly run: string;
  readonly format?: string;
}

const SCENARIOS: Readonly<Record<string, Scenario>> = {
  codec: {
    description: 'aggregate encoding and deaggregate against aws-kinesis-agg, MD5, LZ4',
    module: './codec.js',
    run: 'runCodecBench',
    format: 'formatCodecBench',
  },
  'shard-lookup': {
    description: 'hash key to shard lookup against a BigInt search',
    module: './shard-lookup.js',
    run: 'runShardLookupBench',
    format: 'formatShardLookupBench',
  },
  pipeline: {
    description: 'the producer pipeline against a non-storing endpoint',
    module: './pipeline.js',
    run: 'runPipelineBench',
    format: 'formatPipelineBench',
  },
  'strict-ordering': {
    description: 'accepted bytes per shard with and without strictOrdering on the limits-enforcing local Kinesis',
    module: './strict-ordering.js',
    run: 'runStrictOrderingBench',
    format: 'formatStrictOrderingBench',
  },
  spool: {
    description: 'the durable spool on this disk: appends with group commit and with an fsync per record, read-back',
    module: './spool.js',
    run: 'runSpoolBench',
    format: 'formatSpoolBench',
  },
  metrics: {
    description: "metricsLevel 'none' against 'detailed' on the hot path",
    module: './metrics.js',
    run: 'runMetricsBench',
    format: 'formatMetricsBench',
  },
  forward: {
    description: 'lines per CPU-second of kpl send and the kpl tail path, beside aws-kinesis-agg',
    module: './forward.js',
    run: 'runForwardBench',
    format: 'formatForwardBench',
  },
  e2e: {
    description: 'kpl bench --compare-plain: the producer and plain PutRecords on the embedded limits-enforcing Kinesis',
    module: '',
    run: '',
  },
};

/** Arguments of the end-to-end scenario: `kpl bench` with plain PutRecords side by side. */
const E2E_ARGUMENTS = ['bench', '--compare-plain', '--quiet'];

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--list')) {
    for (const [name, scenario] of Object.entries(SCENARIOS)) process.stdout.write(`${name.padEnd(14)} ${scenario.description}\n`);
    return 0;
  }
  const unknown = argv.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown scenario ${unknown.join(', ')}; the scenarios are ${Object.keys(SCENARIOS).join(', ')}\n`);
    return 2;
  }
  const names = argv.length > 0 ? argv : Object.keys(SCENARIOS);
  let failed = false;
  for (const name of names) {
    const scenario = SCENARIOS[name] as Scenario;
    process.stdout.write(`\n## ${name}: ${scenario.description}\n\n`);
    if (name === 'e2e') {
      failed = (await runCli(E2E_ARGUMENTS, processIo())) !== 0 || failed;
      continue;
    }
    let module: Record<string, unknown>;
    try {
      module = (await import(new URL(scenario.module, import.meta.url).href)) as Record<string, unknown>;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
      process.stdout.write(`skipped: ${scenario.module.replace(/\.js$/, '.ts')} is not there yet\n`);
      continue;
    }
    const run = module[scenario.run];
    if (!isExportedFunction(run)) {
      process.stdout.write(`skipped: ${scenario.module} exports no ${scenario.run}()\n`);
      continue;
    }
    const result: unknown = await run();
    const format = scenario.format === undefined ? undefined : module[scenario.format];
    process.stdout.write(`${isExportedFunction(format) ? String(format(result)) : formatPlain(result)}\n`);
  }
  return failed ? 1 : 0;
}

/** A scenario module's run() or format(result): what it returns is checked where it is used. */
function isExportedFunction(value: unknown): value is (...args: unknown[]) => unknown {
  return typeof value === 'function';
}

/** A result without a formatter of its own: a table when it is a list of flat objects, JSON otherwise. */
function formatPlain(result: unknown): string {
  if (!Array.isArray(result) || result.length === 0 || typeof result[0] !== 'object') return JSON.stringify(result, null, 2);
  const rows = result as Array<Record<string, unknown>>;
  const columns = Object.keys(rows[0] as object);
  const cells = [columns, ...rows.map((row) => columns.map((column) => formatCell(row[column])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] as string).length)));
  return cells.map((row) => row.map((cell, i) => cell.padStart(widths[i] as number)).join('  ')).join('\n');
}

function formatCell(value: unknown): string {
  if (typeof value !== 'number') return String(value);
  return Number.isInteger(value) || Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

process.exitCode = await main(process.argv.slice(2));
