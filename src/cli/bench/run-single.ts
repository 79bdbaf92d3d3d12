import { once } from 'node:events';
import type { CliIo } from '../io.js';
import { localCredentials } from '../options.js';
import { type BenchOptions, DEFAULT_DURATION_SECONDS, describeWorkload, producerSettingsOf, workloadOf } from './bench-options.js';
import { createProgressView } from './progress.js';
import { benchPlainPutRecords, benchProducer, type BenchRun } from './run-bench.js';
import { runSweep } from './run-sweep.js';
import { type BenchSummary, formatSummaries } from './summary.js';
import { type BenchTarget, externalTarget, startEmbeddedTarget } from './target.js';
import { WRITER_READY, WRITER_START } from './writers.js';

/** Requests in flight of the plain PutRecords baseline, the producer's maxConnections default. */
const PLAIN_CONCURRENCY = 24;

/**
 * `kpl bench` without --writers: one producer (and with --compare-plain, plain PutRecords) against
 * the embedded local Kinesis or the given stream, or a --sweep of settings; returns the exit code.
 */
export async function runSingle(options: BenchOptions, io: CliIo): Promise<number> {
  const target: BenchTarget =
    options.stream !== undefined
      ? externalTarget(options.stream, options.endpoint, options.region, localCredentials(options.endpoint, io.env))
      : await startEmbeddedTarget(options.inProcess);
  const abort = new AbortController();
  const stopListening = io.onStopSignal(() => abort.abort());
  const view = createProgressView(options.quiet ? 'none' : !options.json && io.stderrIsTTY ? 'bar' : 'lines', io.stderr);
  try {
    const settings = producerSettingsOf(options);
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
