import { setTimeout as sleep } from 'node:timers/promises';
import type { LineRecord } from '../lines/line-record-options.js';
import type { KinesisProducer } from '../../producer.js';

/** What the sink needs of a producer. */
export type SinkProducer = Pick<KinesisProducer, 'addWithCallback' | 'ready' | 'outstandingRecords' | 'outstandingBytes'>;

/** How many records and bytes (data plus key) the sink lets the producer hold before it keeps records back. */
export interface SinkLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

/**
 * Takes records from a LineRecordReader's emit (which cannot wait) into the producer: at once
 * while the producer has room under the limits, else into a backlog, which {@link drain} empties
 * as room comes. The backlog holds at most one chunk's records: the reader is paused meanwhile.
 * It counts the records delivered and passes each failure on, without a promise per record.
 */
export class DeliverySink {
  readonly #producer: SinkProducer;
  readonly #limits: SinkLimits;
  #backlog: LineRecord[] = [];
  #delivered = 0;
  #added = 0;
  /** The drain in progress: one at a time, as they share the backlog. */
  #draining: Promise<void> | undefined;

  /** @param onFailure told of each record the producer could not deliver. */
  constructor(
    producer: SinkProducer,
    limits: SinkLimits,
    readonly onFailure: (error: Error) => void,
  ) {
    this.#producer = producer;
    this.#limits = limits;
  }

  /** Records the producer has delivered. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Records handed to the producer. */
  get added(): number {
    return this.#added;
  }

  /** True while records wait for room: the reader should pause until {@link drain} resolves. */
  get backlogged(): boolean {
    return this.#backlog.length > 0;
  }

  /** The reader's emit: hands a record to the producer, or keeps it back until there is room. */
  readonly emit = (record: LineRecord): void => {
    if (this.#backlog.length > 0 || !this.#hasRoom(record)) this.#backlog.push(record);
    else this.#add(record);
  };

  /** Resolves once every record kept back has been handed to the producer. */
  drain(): Promise<void> {
    this.#draining ??= this.#drainBacklog().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #drainBacklog(): Promise<void> {
    const backlog = this.#backlog;
    let next = 0;
    while (next < backlog.length) {
      const record = backlog[next] as LineRecord;
      if (this.#hasRoom(record) || this.#recordBytes(record) > this.#limits.maxBytes) {
        this.#add(record);
        next++;
        continue;
      }
      await this.#producer.ready();
      if (!this.#hasRoom(record)) await sleep(1);
    }
    this.#backlog = [];
  }

  #add(record: LineRecord): void {
    this.#added++;
    // One callback for every record, and no promise: the producer builds no result either.
    try {
      this.#producer.addWithCallback(record, this.#onSettled);
    } catch (error) {
      // A record the producer refuses at once (too large with its key, say) fails alone; reading goes on.
      this.onFailure(error instanceof Error ? error : new Error(String(error)));
    }
  }

  readonly #onSettled = (error: Error | undefined): void => {
    if (error === undefined) this.#delivered++;
    else this.onFailure(error);
  };

  #hasRoom(record: LineRecord): boolean {
    const producer = this.#producer;
    return (
      producer.outstandingRecords < this.#limits.maxRecords &&
      producer.outstandingBytes + this.#recordBytes(record) <= this.#limits.maxBytes
    );
  }

  #recordBytes(record: LineRecord): number {
    return record.data.length + record.partitionKey.length;
  }
}
