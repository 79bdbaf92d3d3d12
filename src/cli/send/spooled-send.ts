import { once } from 'node:events';
import { KinesisProducer } from '../../producer.js';
import { KplError, type ProducerConfig, type UserRecordFailedError } from '../../index.js';
import type { CliIo } from '../io.js';
import type { LineRecordOptions } from '../lines/line-record-options.js';
import { CodeCounts, unparsedSummary } from './code-counts.js';
import { forwardInputs, type InputOptions } from './forward-input.js';
import { SpoolSink } from './spool-sink.js';

/** Problems printed one by one before only being counted. */
const PROBLEMS_SHOWN = 5;

/** What `kpl send --spool` needs besides the spool's directory. */
export interface SpooledSendOptions {
  /** The producer's options without the spool. */
  readonly producer: ProducerConfig;
  readonly directory: string;
  /** The spool's syncIntervalMs. */
  readonly syncIntervalMs: number;
  /** Print `durable N` on stdout whenever the first N lines are on disk. */
  readonly reportDurable: boolean;
  /** How lines become records: the same reader and options as without --spool. */
  readonly records: LineRecordOptions;
  /** Bytes read from a file at a time. */
  readonly readChunkBytes: number;
}

/**
 * `kpl send --spool DIR`: every record read is appended to the spool (durable before reading runs
 * far ahead), and the spool delivers. At the end of the input it waits until the spool is empty. On
 * SIGINT or SIGTERM it stops at once: what is read is synced, what is undelivered stays in the
 * spool, and the next `kpl send --spool DIR` sends it first.
 * @returns the exit code: 0 when nothing failed, 1 otherwise.
 */
export async function sendSpooled(files: readonly string[], options: SpooledSendOptions, io: CliIo): Promise<number> {
  const failures = new CodeCounts();
  const unparsed = new CodeCounts();
  let problemsShown = 0;
  const show = (message: string): void => {
    if (problemsShown++ < PROBLEMS_SHOWN) io.stderr.write(`kpl send: ${message}\n`);
  };
  const problem = (code: string, message: string): void => {
    failures.add(code);
    show(message);
  };
  let producer: KinesisProducer;
  try {
    producer = new KinesisProducer({
      ...options.producer,
      spool: {
        directory: options.directory,
        syncIntervalMs: options.syncIntervalMs,
        onFailure: (error: UserRecordFailedError) => problem(error.errorCode || error.code, `a spooled record failed: ${error.message}`),
      },
    });
  } catch (error) {
    io.stderr.write(`kpl send: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const recovered = producer.spoolStats?.recovered ?? 0;
  if (recovered > 0)
    io.stderr.write(
      `kpl send: ${recovered.toLocaleString('en-US')} records from an earlier run wait in ${options.directory}; sending them first\n`,
    );

  const stop = new AbortController();
  const stopListening = io.onStopSignal((signal) => {
    if (!stop.signal.aborted) io.stderr.write(`kpl send: ${signal}: stopping; undelivered records stay in ${options.directory}\n`);
    stop.abort();
  });
  const sink = new SpoolSink(producer, stop.signal, durableReporter(options.reportDurable ? io.stdout : undefined), (error) =>
    problem(
      error instanceof KplError ? error.code : 'SpoolError',
      `a line could not be spooled: ${error instanceof Error ? error.message : String(error)}`,
    ),
  );
  let lines = 0;
  const inputOptions: InputOptions = {
    records: options.records,
    readChunkBytes: options.readChunkBytes,
    onUnparsed: (code, message) => {
      unparsed.add(code);
      show(message);
    },
    onLinesRead: (read) => (lines += read),
  };
  try {
    await forwardInputs(files, io.stdin, inputOptions, sink, stop.signal);
    await sink.allDurable();
    if (!stop.signal.aborted) await Promise.race([producer.flush(), once(stop.signal, 'abort')]);
  } catch (error) {
    problem('ReadError', error instanceof Error ? error.message : String(error));
  } finally {
    await producer.close();
    stopListening();
  }
  const stats = producer.spoolStats;
  const delivered = stats?.delivered ?? 0;
  const waiting = stats?.records ?? 0;
  const byCode = failures.toString();
  io.stderr.write(
    `kpl send: ${lines.toLocaleString('en-US')} lines read, ${delivered.toLocaleString('en-US')} records delivered, ` +
      `${failures.total.toLocaleString('en-US')} failed${byCode === '' ? '' : ` (${byCode})`}, ` +
      `${waiting.toLocaleString('en-US')} waiting in the spool ${options.directory}` +
      `${unparsedSummary(unparsed, options.records.unparsed === 'skip')}\n`,
  );
  return failures.total > 0 ? 1 : 0;
}

/**
 * Counts lines made durable; with an output, prints `durable N` once per turn of the event loop in
 * which the count grew. enqueue() promises resolve in the order of their lines, so N lines durable
 * means the first N.
 */
function durableReporter(output: NodeJS.WritableStream | undefined): (records: number) => void {
  let count = 0;
  let scheduled = false;
  return (records) => {
    count += records;
    if (output === undefined || scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      output.write(`durable ${count}\n`);
    });
  };
}
