import type { CliIo } from '../io.js';
import { type BenchOptions, DEFAULT_DURATION_SECONDS, OUTSTANDING_RECORDS_PER_SHARD } from './bench-options.js';
import { benchWriters } from './writers.js';
import { formatWriters } from './writers-report.js';

/** `kpl bench --writers N`: the writers' flags from the options, the run, and its summary; returns the exit code. */
export async function runWriters(options: BenchOptions, writers: number, io: CliIo): Promise<number> {
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
