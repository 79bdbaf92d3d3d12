import { createReadStream } from 'node:fs';
import { LineRecordReader } from '../lines/line-record-reader.js';
import type { LineProblem, LineRecordOptions } from '../lines/line-record-options.js';
import type { DeliverySink } from './delivery-sink.js';

/** Where forwardInput puts records: a DeliverySink, or a SpoolSink with --spool. */
export type InputSink = Pick<DeliverySink, 'emit' | 'backlogged' | 'drain'>;

/**
 * Reads `input` to its end through `reader` into `sink`, pausing the input while the sink is
 * backlogged. On `signal` it stops reading and sends what it has read (a last line still missing
 * its line break is not sent). Rejects with the input's error (a missing file, say).
 */
export function forwardInput(input: NodeJS.ReadableStream, reader: LineRecordReader, sink: InputSink, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let finished = false;
    const finish = (error?: unknown): void => {
      if (finished) return;
      finished = true;
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', finish);
      signal.removeEventListener('abort', onAbort);
      input.pause();
      if (error !== undefined) {
        reject(error instanceof Error ? error : new Error('the input failed', { cause: error }));
        return;
      }
      sink.drain().then(resolve, reject);
    };
    const onData = (chunk: Buffer | string): void => {
      reader.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk, sink.emit);
      if (!sink.backlogged) return;
      input.pause();
      sink.drain().then(() => {
        if (!finished) input.resume();
      }, finish);
    };
    const onEnd = (): void => {
      reader.end(sink.emit);
      finish();
    };
    const onAbort = (): void => {
      reader.flushPending(sink.emit);
      finish();
    };
    if (signal.aborted) {
      finish();
      return;
    }
    signal.addEventListener('abort', onAbort);
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', finish);
  });
}

/** How {@link forwardInputs} reads its inputs. */
export interface InputOptions {
  /** How lines become records. */
  readonly records: LineRecordOptions;
  /** Bytes read from a file at a time. */
  readonly readChunkBytes: number;
  /** Told of each line that did not parse, with `input:line: message` to show. */
  readonly onUnparsed: (code: string, message: string) => void;
  /** Told of the lines read from each input, once it is done (or failed). */
  readonly onLinesRead: (lines: number) => void;
}

/**
 * Forwards `files` in turn (stdin when there are none), each through a LineRecordReader of its own,
 * into `sink`, until `signal`. Rejects with the first input's error.
 */
export async function forwardInputs(
  files: readonly string[],
  stdin: NodeJS.ReadableStream,
  options: InputOptions,
  sink: InputSink,
  signal: AbortSignal,
): Promise<void> {
  const inputs =
    files.length === 0
      ? [{ name: 'stdin', open: () => stdin }]
      : files.map((file) => ({ name: file, open: () => createReadStream(file, { highWaterMark: options.readChunkBytes }) }));
  for (const input of inputs) {
    if (signal.aborted) break;
    const reader = new LineRecordReader({
      ...options.records,
      onProblem: (problem: LineProblem) =>
        options.onUnparsed(problem.code, `${input.name}:${problem.line.toLocaleString('en-US')}: ${problem.message}`),
    });
    try {
      await forwardInput(input.open(), reader, sink, signal);
    } finally {
      options.onLinesRead(reader.linesRead);
    }
  }
}
