import { Command } from 'commander';
import type { CliIo } from '../io.js';
import { streamName, wholeNumber } from '../options.js';

interface LocalOptions {
  readonly port: number;
  readonly shards: number;
  readonly stream: string;
  readonly limits: boolean;
}

/** `kpl local`: serves the limits-enforcing local Kinesis on 127.0.0.1 until SIGINT or SIGTERM. */
export function localCommand(io: CliIo, setExitCode: (code: number) => void): Command {
  return new Command('local')
    .description('serve a local Kinesis on 127.0.0.1 that enforces the per-shard write limits (1,000 records/s, 1 MiB/s)')
    .option('--port <port>', 'port to listen on; 0 picks a free one', wholeNumber(0, 65_535), 4567)
    .option('--shards <n>', 'shards of the stream created at start', wholeNumber(1, 10_000), 4)
    .option('--stream <name>', 'name of the stream created at start', streamName, 'kpl-local')
    .option('--no-limits', 'accept every write: no throttling')
    .addHelpText(
      'after',
      `
Prints its endpoint URL on the first line of stdout, then serves until Ctrl-C (SIGINT) or SIGTERM.
Records are kept in memory and are gone when it stops. More streams can be created with CreateStream.

Examples:
  $ kpl local
  $ kpl local --port 0 --shards 8 --stream events
  $ ENDPOINT=$(kpl local --port 0 | head -1) ...          # in a script: the first line is the endpoint
  $ kpl send --endpoint http://127.0.0.1:4567 --stream kpl-local < events.ndjson`,
    )
    .action(async (options: LocalOptions) => {
      setExitCode(await serveLocal(options, io));
    });
}

async function serveLocal(options: LocalOptions, io: CliIo): Promise<number> {
  const { LocalKinesis } = await import('../../testing/index.js');
  const kinesis = await LocalKinesis.start({
    port: options.port,
    host: '127.0.0.1',
    streams: [{ name: options.stream, shards: options.shards }],
    ...(options.limits ? {} : { limits: false as const }),
  });
  io.stdout.write(`${kinesis.endpoint}\n`);
  const limits =
    kinesis.limits === false
      ? 'no write limits'
      : `limits ${kinesis.limits.recordsPerSecond.toLocaleString('en-US')} records/s and ${kinesis.limits.bytesPerSecond.toLocaleString('en-US')} bytes/s per shard`;
  io.stderr.write(`kpl local: stream ${options.stream} (${options.shards} shards) at ${kinesis.endpoint}, ${limits}; Ctrl-C stops it\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = io.onStopSignal((received) => {
      stop();
      resolve(received);
    });
  });
  const stats = kinesis.stats();
  await kinesis.close();
  io.stderr.write(
    `kpl local: ${signal}: stopped after ${stats.acceptedRecords.toLocaleString('en-US')} records stored, ${stats.throttledRecords.toLocaleString('en-US')} throttled\n`,
  );
  return 0;
}
