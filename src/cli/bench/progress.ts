import cliProgress from 'cli-progress';
import type { LoadProgress } from './load-result.js';

/** Shows a run's progress while it lasts. */
export interface ProgressView {
  /** A run begins: `goal` is its length in seconds (duration) or in records. */
  begin(label: string, goal: { seconds: number } | { records: number }): void;
  update(progress: LoadProgress): void;
  end(): void;
}

/** How progress is shown: a bar on a terminal, a line every few seconds into a log or a pipe, or not at all. */
export type ProgressStyle = 'bar' | 'lines' | 'none';

/** Seconds between two progress lines when stderr is not a terminal. */
const LINE_EVERY_MS = 2_000;

/** A progress view writing to `stream` (stderr) in the given style. */
export function createProgressView(style: ProgressStyle, stream: NodeJS.WritableStream): ProgressView {
  if (style === 'bar') return new BarView(stream);
  if (style === 'lines') return new LineView(stream);
  return { begin() {}, update() {}, end() {} };
}

class BarView implements ProgressView {
  readonly #stream: NodeJS.WritableStream;
  #bar: cliProgress.SingleBar | undefined;
  #goal: { seconds: number } | { records: number } = { seconds: 1 };

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
  }

  begin(label: string, goal: { seconds: number } | { records: number }): void {
    this.#goal = goal;
    this.#bar = new cliProgress.SingleBar(
      {
        stream: this.#stream,
        format: `${label.padEnd(16)} {bar} {percentage}% | {delivered} delivered | {rate} records/s | {failed} failed`,
        hideCursor: true,
        barsize: 24,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    const total = 'seconds' in goal ? goal.seconds * 10 : goal.records;
    this.#bar.start(total, 0, { delivered: '0', rate: '0', failed: '0' });
  }

  update(progress: LoadProgress): void {
    const value = 'seconds' in this.#goal ? Math.floor(progress.elapsedMs / 100) : progress.delivered;
    this.#bar?.update(Math.min(value, this.#bar.getTotal()), payload(progress));
  }

  end(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }
}

class LineView implements ProgressView {
  readonly #stream: NodeJS.WritableStream;
  #label = '';
  #lastAt = 0;

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
  }

  begin(label: string): void {
    this.#label = label;
    this.#lastAt = 0;
  }

  update(progress: LoadProgress): void {
    if (progress.elapsedMs - this.#lastAt < LINE_EVERY_MS) return;
    this.#lastAt = progress.elapsedMs;
    const { delivered, rate, failed } = payload(progress);
    this.#stream.write(
      `${this.#label}: ${(progress.elapsedMs / 1000).toFixed(0)} s, ${delivered} records delivered, ${rate} records/s, ${failed} failed\n`,
    );
  }

  end(): void {}
}

function payload(progress: LoadProgress): { delivered: string; rate: string; failed: string } {
  const rate = progress.elapsedMs > 0 ? progress.delivered / (progress.elapsedMs / 1000) : 0;
  return {
    delivered: progress.delivered.toLocaleString('en-US'),
    rate: Math.round(rate).toLocaleString('en-US'),
    failed: progress.failed.toLocaleString('en-US'),
  };
}
