import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { KinesisProducer } from '../../producer.js';
import { KplError, type ProducerConfig, type UserRecordFailedError } from '../../index.js';
import type { CliIo } from '../io.js';
import { type KeySource, lineToRecord } from './line-records.js';

/** Lines read and not yet durable at most: reading pauses beyond, and while the spool is full. */
const MAX_UNSYNCED_LINES = 10_000;
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
  readonly source: KeySource;
}

/**
 * `kpl send --spool DIR`: every line read is appended to the spool (durable before more is read
 * than MAX_UNSYNCED_LINES ahead), and the spool delivers. At the end of the input it waits until the
 * spool is empty. On SIGINT or SIGTERM it stops at once: what is read is synced, what is undelivered
 * stays in the spool, and the next `kpl send --spool DIR` sends it first.
 * @returns the exit code: 0 when nothing failed, 1 otherwise.
 */
export async function sendSpooled(files: readonly string[], options: SpooledSendOptions, io: CliIo): Promise<number> {
  let failed = 0;
  const failuresByCode = new Map<string, number>();
  let problemsShown = 0;
  const problem = (code: string, message: string): void => {
    failed++;
    failuresByCode.set(code, (failuresByCode.get(code) ?? 0) + 1);
    if (problemsShown++ < PROBLEMS_SHOWN) io.stderr.write(`kpl send: ${message}\n`);
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
  let lines = 0;
  const durable = durableReporter(options.reportDurable ? io.stdout : undefined);
  try {
    const inputs = files.length === 0 ? [() => io.stdin] : files.map((file) => () => createReadStream(file));
    for (const open of inputs) {
      if (stop.signal.aborted) break;
      lines = await spoolLines(open(), options.source, producer, lines, problem, durable, stop.signal);
    }
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
  const byCode = [...failuresByCode].map(([code, n]) => `${code} ${n.toLocaleString('en-US')}`).join(', ');
  io.stderr.write(
    `kpl send: ${lines.toLocaleString('en-US')} lines read, ${delivered.toLocaleString('en-US')} records delivered, ` +
      `${failed.toLocaleString('en-US')} failed${byCode === '' ? '' : ` (${byCode})`}, ` +
      `${waiting.toLocaleString('en-US')} waiting in the spool ${options.directory}\n`,
  );
  return failed > 0 ? 1 : 0;
}

/** Appends every line of `input` to the spool; returns the count of lines read so far. */
async function spoolLines(
  input: NodeJS.ReadableStream,
  source: KeySource,
  producer: KinesisProducer,
  linesBefore: number,
  problem: (code: string, message: string) => void,
  durable: () => void,
  signal: AbortSignal,
): Promise<number> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  const aborted = (): void => lines.close();
  signal.addEventListener('abort', aborted);
  const failed = once(input as NodeJS.EventEmitter, 'error').then(([error]) => {
    throw error;
  });
  failed.catch(() => undefined);
  let count = linesBefore;
  let unsynced = 0;
  let roomWaiter: (() => void) | undefined;
  const synced = (): void => {
    unsynced--;
    durable();
    const wake = roomWaiter;
    roomWaiter = undefined;
    wake?.();
  };
  // One handler for every line: no closure per record on this path.
  const refused = (error: unknown): void => {
    unsynced--;
    const wake = roomWaiter;
    roomWaiter = undefined;
    wake?.();
    if (signal.aborted) return;
    problem(
      error instanceof KplError ? error.code : 'SpoolError',
      `a line could not be spooled: ${error instanceof Error ? error.message : String(error)}`,
    );
  };
  try {
    const reading = (async () => {
      for await (const line of lines) {
        if (line === '') continue;
        const lineNumber = ++count;
        const record = lineToRecord(line, source);
        if ('code' in record) {
          problem(record.code, `line ${lineNumber.toLocaleString('en-US')}: ${record.message}`);
          continue;
        }
        unsynced++;
        producer.enqueue(record).then(synced, refused);
        // A full spool holds enqueue() back: reading waits with it, so the input is paused, not buffered.
        while (unsynced >= MAX_UNSYNCED_LINES && !signal.aborted) await new Promise<void>((wake) => (roomWaiter = wake));
        if (signal.aborted) break;
      }
      while (unsynced > 0 && !signal.aborted) await new Promise<void>((wake) => (roomWaiter = wake));
    })();
    await Promise.race([reading, failed]);
  } finally {
    signal.removeEventListener('abort', aborted);
    lines.close();
  }
  return count;
}

/**
 * Counts lines made durable; with an output, prints `durable N` once per turn of the event loop in
 * which the count grew. enqueue() promises resolve in the order of their lines, so N lines durable
 * means the first N.
 */
function durableReporter(output: NodeJS.WritableStream | undefined): () => void {
  let count = 0;
  let scheduled = false;
  return () => {
    count++;
    if (output === undefined || scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      output.write(`durable ${count}\n`);
    });
  };
}
