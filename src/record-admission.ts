/**
 * What add() does before the pipeline: refuse when closed or full, find the record's stream,
 * validate it (writing its hash key into a scratch array), count it in the outstanding limits and
 * the metrics, and hand it to its stream's pipeline. Records read back from the spool come in the
 * same way, through {@link RecordAdmission.admit}.
 */
import type { ProducerMetrics } from './metrics.js';
import type { OutstandingRecords } from './outstanding-records.js';
import { monotonicMs, outstandingBytesOf, PendingRecord } from './pending-record.js';
import { ProducerClosedError, type RecordCallback, type UserRecord, type UserRecordResult, validateUserRecord } from './records.js';
import type { StreamPipelines } from './stream-pipelines.js';

/** A user record that names its own stream instead of the producer's. */
export interface StreamUserRecord extends UserRecord {
  /** The stream this record goes to; each stream gets its own pipeline on first use. @default the producer's stream */
  readonly streamName?: string;
}

/*
 * add() takes its promise's resolve through one module-level executor instead of a closure per
 * call: the hot path then allocates no function context of its own.
 */
let capturedResolve: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void = () => undefined;
function captureResolve(resolve: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void): void {
  capturedResolve = resolve;
}

/** The `resolve` of a record added with a callback: never called, as the settle step tells the callback instead. */
function noPromise(): void {}

/**
 * At least what a record will hold of maxOutstandingBytes, read without validating or encoding it:
 * a string's UTF-8 bytes are never fewer than its UTF-16 code units.
 */
export function minOutstandingBytes(record: StreamUserRecord): number {
  if (typeof record !== 'object' || record === null) return 0;
  const { data, partitionKey } = record;
  const dataLength = typeof data === 'string' || data instanceof Uint8Array ? data.length : 0;
  return dataLength + (typeof partitionKey === 'string' ? partitionKey.length : 0);
}

/** Takes records into the producer's pipelines; one per producer. */
export class RecordAdmission {
  readonly #outstanding: OutstandingRecords;
  readonly #pipelines: StreamPipelines;
  readonly #metrics: ProducerMetrics | undefined;
  /** Scratch for the record being added: validation writes its hash key here, so no per-record array is allocated. */
  readonly #hashKey = new Uint32Array(4);
  #closed = false;

  constructor(outstanding: OutstandingRecords, pipelines: StreamPipelines, metrics: ProducerMetrics | undefined) {
    this.#outstanding = outstanding;
    this.#pipelines = pipelines;
    this.#metrics = metrics;
  }

  /** True once the producer began to close: every record is refused. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Refuses every record from now on, with ProducerClosedError. */
  close(): void {
    this.#closed = true;
  }

  /**
   * Takes a record in; returns add()'s promise, or nothing when `callback` is told the outcome instead.
   *
   * @throws ProducerClosedError after close(), BufferFullError at maxOutstandingRecords/Bytes,
   * ValidationError for bad input.
   */
  add(record: StreamUserRecord, callback: RecordCallback | undefined): Promise<UserRecordResult> | undefined {
    if (this.#closed) throw new ProducerClosedError();
    const outstanding = this.#outstanding;
    outstanding.refuseIfFull(minOutstandingBytes(record));
    const hashKey = this.#hashKey;
    // Bad input is validated below; a record that is not even an object goes to the default stream's checks.
    const streamName = (record as Partial<StreamUserRecord> | null | undefined)?.streamName;
    const pipeline = streamName === undefined ? this.#pipelines.default : this.#pipelines.for(streamName);
    const data = validateUserRecord(record, hashKey, 0, pipeline.maxRecordBytes, pipeline.maxRecordBytesSource);
    const bytes = outstandingBytesOf(record.partitionKey, data);
    const generation = outstanding.add(bytes);
    const promise = callback === undefined ? new Promise<UserRecordResult>(captureResolve) : undefined;
    const item = new PendingRecord(
      record,
      data,
      monotonicMs(),
      generation,
      callback === undefined ? capturedResolve : noPromise,
      bytes,
      callback,
    );
    this.#metrics?.recordReceived(pipeline.label);
    pipeline.add(item, hashKey, 0);
    return promise;
  }

  /**
   * Puts a record read back from the spool into its stream's pipeline, counted in the outstanding
   * limits, which bound the spool's window in memory; `settle` settles it. False when they are reached.
   */
  admit(record: StreamUserRecord, data: Uint8Array, settle: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void): boolean {
    const bytes = outstandingBytesOf(record.partitionKey, data);
    const outstanding = this.#outstanding;
    if (!outstanding.hasRoom(bytes)) return false;
    const hashKey = this.#hashKey;
    const pipeline = this.#pipelines.for(record.streamName);
    validateUserRecord(record, hashKey, 0, pipeline.maxRecordBytes, pipeline.maxRecordBytesSource);
    const generation = outstanding.add(bytes);
    const item = new PendingRecord(record, data, monotonicMs(), generation, settle, bytes);
    this.#metrics?.recordReceived(pipeline.label);
    pipeline.add(item, hashKey, 0);
    return true;
  }
}
