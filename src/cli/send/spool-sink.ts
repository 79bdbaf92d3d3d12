import type { KinesisProducer } from '../../producer.js';
import type { LineRecord } from '../lines/line-record-options.js';

/** Records emitted and not yet durable at most: reading pauses beyond, and while the spool is full. */
export const MAX_UNSYNCED_RECORDS = 10_000;

/**
 * Takes records from a LineRecordReader's emit into the producer's spool with enqueue(), without a
 * closure per record. While {@link MAX_UNSYNCED_RECORDS} wait to be
 * durable (a full spool holds enqueue() back) it is backlogged, so that the input is paused, not buffered.
 */
export class SpoolSink {
  readonly #producer: Pick<KinesisProducer, 'enqueue'>;
  readonly #signal: AbortSignal;
  readonly #onDurable: (records: number) => void;
  readonly #onRefused: (error: unknown) => void;
  #unsynced = 0;
  #groupDurable: Promise<void> | undefined;
  #group = { records: 0 };
  #roomWaiters: (() => void)[] = [];
  #durableWaiters: (() => void)[] = [];

  /**
   * @param onDurable told of records on disk, in the order emitted: `records` more of them.
   * @param onRefused told of each record the spool refused, unless `signal` stopped the run.
   */
  constructor(
    producer: Pick<KinesisProducer, 'enqueue'>,
    signal: AbortSignal,
    onDurable: (records: number) => void,
    onRefused: (error: unknown) => void,
  ) {
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
    const durable = this.#producer.enqueue(record);
    // Records synced together share enqueue()'s promise: one handler a group, not one a record.
    if (durable === this.#groupDurable) {
      this.#group.records++;
      return;
    }
    const group = { records: 1 };
    this.#group = group;
    this.#groupDurable = durable;
    durable.then(
      () => this.#synced(group.records),
      (error: unknown) => this.#refused(group.records, error),
    );
  };

  /**
   * Resolves once fewer than {@link MAX_UNSYNCED_RECORDS} records wait to be durable, so that reading
   * goes on while the spool syncs the rest; at once when the run is stopped.
   */
  drain(): Promise<void> {
    if (!this.backlogged || this.#signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Resolves once every record emitted is durable or refused; at once when the run is stopped. */
  allDurable(): Promise<void> {
    if (this.#unsynced === 0 || this.#signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.#durableWaiters.push(resolve));
  }

  #synced(records: number): void {
    this.#settled(records);
    this.#onDurable(records);
  }

  #refused(records: number, error: unknown): void {
    this.#settled(records);
    if (this.#signal.aborted) return;
    for (let i = 0; i < records; i++) this.#onRefused(error);
  }

  #settled(records: number): void {
    this.#unsynced -= records;
    if (this.#roomWaiters.length > 0 && this.#unsynced < MAX_UNSYNCED_RECORDS) for (const resolve of this.#roomWaiters.splice(0)) resolve();
    if (this.#unsynced === 0) for (const resolve of this.#durableWaiters.splice(0)) resolve();
  }

  #wake(): void {
    for (const resolve of this.#roomWaiters.splice(0)) resolve();
    for (const resolve of this.#durableWaiters.splice(0)) resolve();
  }
}
