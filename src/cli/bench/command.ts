import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { CONFIG_RULES } from '../../config.js';
import { SHARD_MAX_BYTES_PER_SECOND } from '../../format/limits.js';
import type { CliIo } from '../io.js';
import { endpointUrl, localCredentials, positiveNumber, streamName, USAGE_EXIT_CODE, wholeNumber } from '../options.js';
import { renderSweepHtml, renderSweepSvg } from './chart.js';
import { createProgressView } from './progress.js';
import { benchPlainPutRecords, benchProducer, type BenchRun, type ProducerSettings } from './run-bench.js';
import { type BenchSummary, formatSummaries, formatSweep } from './summary.js';
import { sweepPoints } from './sweep.js';
import { type BenchTarget, externalTarget, startEmbeddedTarget } from './target.js';
import { MARKER_BYTES, type Workload } from './workload.js';
import { benchWriters, formatWriters, WRITER_READY, WRITER_START } from './writers.js';

interface BenchOptions {
  readonly shards: number;
  readonly recordSize: number;
  readonly keys: number;
  readonly duration?: number;
  readonly records?: number;
  readonly rate?: number;
  readonly endpoint?: string;
  readonly stream?: string;
  readonly region?: string;
  readonly sweep: boolean;
  readonly out?: string;
  readonly json: boolean;
  readonly comparePlain: boolean;
  readonly verify: boolean;
  readonly linger: number;
  readonly aggregation: boolean;
  readonly aggregationMaxSize: number;
  readonly rateLimit: number;
  readonly adaptiveRateLimit: boolean;
  readonly maxConnections: number;
  readonly maxOutstanding?: number;
  readonly metricsLevel: ProducerSettings['metricsLevel'];
  readonly inProcess: boolean;
  readonly quiet: boolean;
  readonly writers?: number;
  readonly awaitStart: boolean;
  readonly spool?: string;
}

const DEFAULT_DURATION_SECONDS = 12;
const DEFAULT_SWEEP_POINT_SECONDS = 4;
/** Backpressure per shard: enough records in flight to fill a shard, few enough that queueing stays under a second. */
const OUTSTANDING_RECORDS_PER_SHARD = 3_000;
/** A sweep offers this share of the shards' byte limit, so that latency shows the settings, not a queue. */
const SWEEP_LOAD_SHARE = 0.8;
/** Requests in flight of the plain PutRecords baseline, the producer's maxConnections default. */
const PLAIN_CONCURRENCY = 24;
const DEFAULT_SWEEP_OUT = 'kpl-sweep.html';
/** The producer's rateLimit default, which --writers uses unless --rate-limit is given. */
const PRODUCER_DEFAULT_RATE_LIMIT = CONFIG_RULES.rateLimit.default;

/** `kpl bench`: measures the producer end to end, by default against the embedded limits-enforcing local Kinesis. */
export function benchCommand(io: CliIo, setExitCode: (code: number) => void): Command {
  const command = new Command('bench')
    .description(
      'measure throughput, batching and latency end to end; by default against an embedded local Kinesis that enforces the shard limits',
    )
    .option('--shards <n>', 'shards of the embedded stream', wholeNumber(1, 200), 4)
    .option('--record-size <bytes>', 'data bytes of each user record', wholeNumber(1, 1_000_000), 100)
    .option('--keys <n>', 'distinct partition keys, drawn uniformly', wholeNumber(1, 10_000_000), 1000)
    .addOption(
      new Option(
        '--duration <seconds>',
        `how long to offer records (default ${DEFAULT_DURATION_SECONDS}; ${DEFAULT_SWEEP_POINT_SECONDS} per point with --sweep)`,
      )
        .argParser(positiveNumber(86_400))
        .conflicts('records'),
    )
    .option('--records <n>', 'offer this many records instead of running for a duration', wholeNumber(1, 1_000_000_000))
    .option('--rate <records-per-second>', 'offered user records/s (default: as fast as backpressure allows)', positiveNumber(100_000_000))
    .option('--endpoint <url>', 'Kinesis endpoint (LocalStack, kpl local, ...) instead of the embedded one; needs --stream', endpointUrl)
    .option(
      '--stream <name>',
      'existing stream to write to instead of the embedded one (AWS credentials and region from the environment)',
      streamName,
    )
    .option('--region <region>', 'AWS region with --stream')
    .addOption(
      new Option(
        '--sweep',
        'run a grid of recordMaxBufferedTime, aggregationMaxSize, aggregation and rateLimit settings and chart throughput against latency',
      ).conflicts('comparePlain'),
    )
    .option(
      '--out <file>',
      `where --sweep writes its chart: .svg for the chart alone, else an HTML page with a table (default ${DEFAULT_SWEEP_OUT})`,
    )
    .option('--compare-plain', 'also run plain SDK PutRecords without aggregation on the same workload, side by side', false)
    .option('--verify', 'read every record back from the stream and count the missing ones as lost', false)
    .option('--json', 'print the summary as one JSON object on the last line of stdout', false)
    .option('--quiet', 'no progress on stderr', false)
    .option('--linger <ms>', 'producer recordMaxBufferedTime', wholeNumber(1, 600_000), 100)
    .option('--no-aggregation', 'producer aggregationEnabled false: one user record per Kinesis record')
    .option('--aggregation-max-size <bytes>', 'producer aggregationMaxSize', wholeNumber(64, 1_048_576), 51_200)
    .option(
      '--rate-limit <percent>',
      "producer rateLimit, % of each shard's write limits; the producer's default is 150, but the embedded Kinesis enforces exactly 100 (with --writers: 150)",
      wholeNumber(1, 10_000),
      100,
    )
    .option('--no-adaptive-rate-limit', 'producer adaptiveRateLimit false: every shard stays at --rate-limit %, whatever the throttling')
    .option('--max-connections <n>', 'producer maxConnections', wholeNumber(1, 256), 24)
    .option(
      '--max-outstanding <records>',
      `producer maxOutstandingRecords (default ${OUTSTANDING_RECORDS_PER_SHARD.toLocaleString('en-US')} per shard)`,
      wholeNumber(1, 100_000_000),
    )
    .addOption(
      new Option('--metrics-level <level>', 'producer metricsLevel; with none the Kinesis-side figures are not known')
        .choices(['none', 'summary', 'detailed'])
        .default('detailed'),
    )
    .option('--spool <dir>', 'give the producer a durable spool in DIR, to measure what the spool costs (compare a run without it)')
    .option(
      '--in-process',
      'run the embedded local Kinesis in this process instead of a child process (it then competes for this event loop)',
      false,
    )
    .addOption(
      new Option(
        '--writers <n>',
        "run N producer processes on one stream of the embedded local Kinesis (in this process) and report bytes sent per byte stored, throttling, each writer's share and each shard's final rate",
      )
        .argParser(wholeNumber(1, 64))
        .conflicts(['sweep', 'comparePlain', 'endpoint', 'stream', 'inProcess', 'records', 'verify']),
    )
    .addOption(
      new Option('--await-start', 'a --writers writer: say ready over IPC and offer records once told to start').default(false).hideHelp(),
    )
    .addHelpText(
      'after',
      `
The summary gives user records/s, MiB/s, the share of the shards' byte limit used, user records per
Kinesis record, PutRecords calls/s, throttled %, latency p50/p90/p99 from add() to delivery, peak RSS,
and the records lost (offered but not delivered; with --verify also those missing on read-back).
It exits 1 when a record was lost.

Examples:
  $ kpl bench                                   # 4 shards, 100 B records, 12 s, embedded local Kinesis
  $ kpl bench --compare-plain                   # the same load through plain PutRecords, side by side
  $ kpl bench --shards 8 --record-size 2000 --rate 5000 --duration 30
  $ kpl bench --records 100000 --verify --json  # read everything back; one JSON line for scripts
  $ kpl bench --sweep --out sweep.html          # chart throughput against latency for many settings
  $ kpl bench --writers 3 --shards 2 --rate-limit 150 --duration 20   # three producer processes share a stream
  $ kpl bench --endpoint http://127.0.0.1:4566 --stream my-stream   # LocalStack
  $ kpl bench --stream my-stream --region eu-west-1 --rate 2000     # real Kinesis: costs money`,
    );
  return command.action(async (options: BenchOptions) => {
    checkCombinations(options, command);
    if (options.writers !== undefined) {
      // Writers sharing a stream are measured with the producer's own defaults unless told otherwise.
      const rateLimit = command.getOptionValueSource('rateLimit') === 'cli' ? options.rateLimit : PRODUCER_DEFAULT_RATE_LIMIT;
      setExitCode(await runWriters({ ...options, rateLimit }, options.writers, io));
      return;
    }
    setExitCode(await runBench(options, io));
  });
}

function checkCombinations(options: BenchOptions, command: Command): void {
  const usage = (message: string): never => command.error(`error: ${message}`, { exitCode: USAGE_EXIT_CODE, code: 'kpl.usage' });
  if (options.endpoint !== undefined && options.stream === undefined) usage('--endpoint needs --stream: the stream to write to there');
  if (options.out !== undefined && !options.sweep) usage('--out is where --sweep writes its chart; add --sweep');
  if (options.verify && options.recordSize < MARKER_BYTES)
    usage(`--verify needs --record-size of at least ${MARKER_BYTES}: each record carries its index`);
  if (options.stream !== undefined && options.shards !== 4 && command.getOptionValueSource('shards') === 'cli') {
    usage('--shards sets up the embedded stream; with --stream the stream has the shards it has');
  }
}

async function runBench(options: BenchOptions, io: CliIo): Promise<number> {
  const target: BenchTarget =
    options.stream !== undefined
      ? externalTarget(options.stream, options.endpoint, options.region, localCredentials(options.endpoint, io.env))
      : await startEmbeddedTarget(options.inProcess);
  const abort = new AbortController();
  const stopListening = io.onStopSignal(() => abort.abort());
  const view = createProgressView(options.quiet ? 'none' : !options.json && io.stderrIsTTY ? 'bar' : 'lines', io.stderr);
  try {
    const settings: ProducerSettings = {
      recordMaxBufferedTime: options.linger,
      aggregationEnabled: options.aggregation,
      aggregationMaxSize: options.aggregationMaxSize,
      rateLimit: options.rateLimit,
      adaptiveRateLimit: options.adaptiveRateLimit,
      maxConnections: options.maxConnections,
      metricsLevel: options.metricsLevel,
    };
    if (options.sweep) return await runSweep(options, settings, target, view, abort.signal, io);
    const stream = await target.stream(options.shards);
    const workload = workloadOf(options, stream.shards, DEFAULT_DURATION_SECONDS, options.rate);
    const run: BenchRun = {
      workload,
      settings,
      verify: options.verify,
      view,
      signal: abort.signal,
      ...(options.spool !== undefined ? { spoolDirectory: options.spool } : {}),
    };
    io.stderr.write(`kpl bench: ${describeWorkload(workload, stream.shards)}, against ${target.description}\n`);
    if (options.awaitStart) await awaitStart();
    const summaries = [await benchProducer(target, stream, run, options.spool !== undefined ? 'kinesis-kpl --spool' : undefined)];
    if (options.comparePlain && !abort.signal.aborted) {
      const plainStream = options.stream !== undefined ? stream : await target.stream(options.shards);
      summaries.push(await benchPlainPutRecords(target, plainStream, run, PLAIN_CONCURRENCY));
    }
    const [producer, plain] = summaries as [BenchSummary, BenchSummary | undefined];
    if (options.json) {
      io.stdout.write(`${JSON.stringify(plain === undefined ? producer : { ...producer, plain })}\n`);
    } else {
      io.stdout.write(`${formatSummaries(summaries)}\n`);
      if (plain !== undefined && plain.recordsPerSecond > 0) {
        io.stdout.write(
          `\nkinesis-kpl delivered ${(producer.recordsPerSecond / plain.recordsPerSecond).toFixed(1)}x the user records/s of plain PutRecords ` +
            `(${Math.round(plain.recordsPerSecondPerShard).toLocaleString('en-US')} per shard: each record is a Kinesis record, and a shard takes 1,000 a second).\n`,
        );
      }
    }
    return summaries.some((summary) => summary.lost > 0) ? 1 : 0;
  } finally {
    view.end();
    stopListening();
    await target.close();
  }
}

/** A `--writers` writer: tells the bench that runs it that it is ready, and waits for the word to start. */
async function awaitStart(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('--await-start needs an IPC channel to the bench that started this writer');
  const started = once(process, 'message');
  send(WRITER_READY);
  for (;;) {
    const [message] = (await started) as [unknown];
    if (message === WRITER_START) break;
  }
  process.channel?.unref();
}

async function runWriters(options: BenchOptions, writers: number, io: CliIo): Promise<number> {
  const abort = new AbortController();
  const stopListening = io.onStopSignal(() => abort.abort());
  const durationSeconds = options.duration ?? DEFAULT_DURATION_SECONDS;
  const writerArgs = [
    '--duration',
    String(durationSeconds),
    '--record-size',
    String(options.recordSize),
    '--keys',
    String(options.keys),
    '--linger',
    String(options.linger),
    '--aggregation-max-size',
    String(options.aggregationMaxSize),
    '--rate-limit',
    String(options.rateLimit),
    '--max-connections',
    String(options.maxConnections),
    '--max-outstanding',
    String(options.maxOutstanding ?? options.shards * OUTSTANDING_RECORDS_PER_SHARD),
    ...(options.rate !== undefined ? ['--rate', String(options.rate)] : []),
    ...(options.aggregation ? [] : ['--no-aggregation']),
    ...(options.adaptiveRateLimit ? [] : ['--no-adaptive-rate-limit']),
  ];
  try {
    const summary = await benchWriters({
      writers,
      shards: options.shards,
      durationSeconds,
      writerArgs,
      signal: abort.signal,
      log: (line) => {
        if (!options.quiet) io.stderr.write(`${line}\n`);
      },
    });
    io.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${formatWriters(summary)}\n`);
    return summary.lost > 0 ? 1 : 0;
  } finally {
    stopListening();
  }
}

async function runSweep(
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

function workloadOf(options: BenchOptions, shards: number, defaultSeconds: number, rate: number | undefined): Workload {
  return {
    recordSize: options.recordSize,
    keys: options.keys,
    records: options.records,
    durationMs: options.records === undefined ? (options.duration ?? defaultSeconds) * 1000 : undefined,
    rate,
    maxOutstandingRecords: options.maxOutstanding ?? shards * OUTSTANDING_RECORDS_PER_SHARD,
  };
}

function describeWorkload(workload: Workload, shards: number): string {
  const length =
    workload.records !== undefined ? `${workload.records.toLocaleString('en-US')} records` : `${(workload.durationMs ?? 0) / 1000} s`;
  const rate =
    workload.rate === undefined ? 'as fast as backpressure allows' : `${workload.rate.toLocaleString('en-US')} records/s offered`;
  return `${shards} shards, ${workload.recordSize.toLocaleString('en-US')} B records, ${workload.keys.toLocaleString('en-US')} keys, ${length}, ${rate}`;
}
