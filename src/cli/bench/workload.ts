import { randomBytes } from 'node:crypto';
import type { UserRecord } from '../../records.js';

/** What a bench run offers to Kinesis. */
export interface Workload {
  /** Data bytes of each user record. */
  readonly recordSize: number;
  /** Distinct partition keys, drawn uniformly. */
  readonly keys: number;
  /** How long to offer records (ms); the run then waits for every record to settle. One of this and `records`. */
  readonly durationMs: number | undefined;
  /** How many records to offer. */
  readonly records: number | undefined;
  /** Offered records per second; undefined offers them as fast as backpressure allows. */
  readonly rate: number | undefined;
  /** Most records accepted and not yet settled: backpressure, and so the queueing part of latency. */
  readonly maxOutstandingRecords: number;
}

/** Bytes at the start of each record's data that say which run and which record it is, for read-back. */
export const MARKER_BYTES = 8;

/**
 * Makes the bench's user records: `keys` partition keys drawn uniformly, and data of `recordSize`
 * random bytes. When the data is large enough, its first 8 bytes carry the run's tag and the
 * record's index, so that a read-back can tell exactly which records arrived.
 */
export class RecordFactory {
  /** A random number identifying this run's records in a stream that may hold others. */
  readonly tag: number;
  readonly #keys: string[];
  readonly #template: Buffer;
  readonly #marked: boolean;

  constructor(recordSize: number, keys: number) {
    this.tag = randomBytes(4).readUInt32BE(0);
    this.#keys = Array.from({ length: keys }, (_, i) => `key-${i}-${randomBytes(3).toString('hex')}`);
    this.#template = randomBytes(recordSize);
    this.#marked = recordSize >= MARKER_BYTES;
  }

  /** True when each record carries its run tag and index, so a read-back can check it. */
  get marked(): boolean {
    return this.#marked;
  }

  /** Data plus partition key bytes of a record, as Kinesis counts them (keys are ASCII). */
  bytesOf(record: UserRecord): number {
    return (record.data as Buffer).length + record.partitionKey.length;
  }

  /** The record with index `index`; its data is a new buffer, as an application's would be. */
  create(index: number): UserRecord {
    const data = Buffer.allocUnsafe(this.#template.length);
    this.#template.copy(data);
    if (this.#marked) {
      data.writeUInt32BE(this.tag, 0);
      data.writeUInt32BE(index >>> 0, 4);
    }
    const key = this.#keys[Math.floor(Math.random() * this.#keys.length)] as string;
    return { partitionKey: key, data };
  }

  /** The index carried by data of this run, or -1 when the data is not one of this run's records. */
  indexOf(data: Uint8Array): number {
    if (!this.#marked || data.length !== this.#template.length) return -1;
    const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return view.readUInt32BE(0) === this.tag ? view.readUInt32BE(4) : -1;
  }
}
