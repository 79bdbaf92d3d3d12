import type { LineRecordReader } from '../lines/line-record-reader.js';
import type { DeliverySink } from './delivery-sink.js';

/**
 * Reads `input` to its end through `reader` into `sink`, pausing the input while the sink is
 * backlogged. On `signal` it stops reading and sends what it has read (a last line still missing
 * its line break is not sent). Rejects with the input's error (a missing file, say).
 */
export function forwardInput(
  input: NodeJS.ReadableStream,
  reader: LineRecordReader,
  sink: DeliverySink,
  signal: AbortSignal,
): Promise<void> {
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
