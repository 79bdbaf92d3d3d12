import type { KinesisProducer } from '../../producer.js';
import type { LineRecord } from '../lines/line-record-reader.js';

/** Records emitted and not yet durable at most: reading pauses beyond, and while the spool is full. */
export const MAX_UNSYNCED_RECORDS = 10_000;

/**
 * Takes records from a LineRecordReader's emit into the producer's spool with enqueue(): one pair of
 * handlers serves every record, no closure per record. While {@link MAX_UNSYNCED_RECORDS} wait to be
 * durable (a full spool holds enqueue() back) it is backlogged, so that the input is paused, not buffered.
 */
export class SpoolSink {
  readonly #producer: Pick<KinesisProducer, 'enqueue'>;
  readonly #signal: AbortSignal;
  readonly #onDurable: () => void;
  readonly #onRefused: (error: unknown) => void;
  #unsynced = 0;
  #drained: (() => void)[] = [];

  /**
   * @param onDurable told once for each record on disk, in the order emitted.
   * @param onRefused told of each record the spool refused, unless `signal` stopped the run.
   */
  constructor(producer: Pick<KinesisProducer, 'enqueue'>, signal: AbortSignal, onDurable: () => void, onRefused: (error: unknown) => void) {
    this.#producer = producer;
    this.#signal = signal;
    this.#onDurable = onDurable;
    this.#onRefused = onRefused;
    signal.addEventListener('abort', () => this.#wake(), { once: true });
  }

  /** True while too many records wait to be durable: the reader should pause until {@link drain} resolves. */
  get backlogged(): boolean {
    return this.#unsynced >= MAX_UNSYNCED_RECORDS;
  }

  /** The reader's emit: spools the record; its data is copied before this returns. */
  readonly emit = (record: LineRecord): void => {
    this.#unsynced++;
    this.#producer.enqueue(record).then(this.#synced, this.#refused);
  };

  /** Resolves once every record emitted is durable or refused, or at once when the run is stopped. */
  drain(): Promise<void> {
    if (this.#unsynced === 0 || this.#signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  readonly #synced = (): void => {
    this.#unsynced--;
    this.#onDurable();
    if (this.#unsynced === 0) this.#wake();
  };

  readonly #refused = (error: unknown): void => {
    this.#unsynced--;
    if (this.#unsynced === 0) this.#wake();
    if (!this.#signal.aborted) this.#onRefused(error);
  };

  #wake(): void {
    for (const resolve of this.#drained.splice(0)) resolve();
  }
}
