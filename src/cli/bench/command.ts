import { Command, Option } from 'commander';
import type { CliIo } from '../io.js';
import { endpointUrl, positiveNumber, streamName, USAGE_EXIT_CODE, wholeNumber } from '../options.js';
import {
  type BenchOptions,
  DEFAULT_DURATION_SECONDS,
  DEFAULT_SWEEP_OUT,
  DEFAULT_SWEEP_POINT_SECONDS,
  OUTSTANDING_RECORDS_PER_SHARD,
  PRODUCER_DEFAULT_RATE_LIMIT,
} from './bench-options.js';
import { runSingle } from './run-single.js';
import { runWriters } from './run-writers.js';
import { MARKER_BYTES } from './workload.js';

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
    setExitCode(await runSingle(options, io));
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
