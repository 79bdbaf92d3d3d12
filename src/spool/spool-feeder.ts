import { BufferFullError, ProducerClosedError, UserRecordFailedError, type UserRecordResult } from '../records.js';
import { AddWaiters, type Settle } from './add-waiters.js';
import { DurableAppender } from './durable-append.js';
import { expiredError, failureKind, isThenable } from './failure-kind.js';
import type { SpoolFeederHost, SpoolFeederOptions, SpoolRecord } from './feeder-host.js';
import { ParkedRecords, type WindowRecord } from './parked-records.js';
import type { SpoolEntry } from './reader.js';
import type { Spool } from './spool.js';
import { decodeSpooledRecord, encodeUserRecord, type SpooledRecord } from './spooled-record.js';

export type { Settle } from './add-waiters.js';
export type { SpoolFeederHost, SpoolFeederOptions, SpoolRecord } from './feeder-host.js';

const READ_RECORDS = 500;
const READ_BYTES = 1024 * 1024;

/**
 * Moves records between the producer and its spool: appends what add() and enqueue() take, and feeds
 * the pipeline from the spool in order, a window at a time, as the window has room. A record is
 * acknowledged in the spool when Kinesis stored it or it failed for good; one whose retries or
 * recordTtl ran out in the pipeline (an outage) is sent again after retryDelayMs, until the spool's
 * maxAgeMs drops it.
 */
export class SpoolFeeder {
  readonly spool: Spool;
  readonly #host: SpoolFeederHost;
  readonly #options: SpoolFeederOptions;
  /** add()'s promises by sequence number: they settle when Kinesis has the record. */
  readonly #waiters: AddWaiters;
  readonly #appender: DurableAppender;
  readonly #parked: ParkedRecords;
  /** Scratch for validation's hash key. */
  readonly #hashKey = new Uint32Array(4);
  /** Records read that found the window full (the reader may overshoot its byte bound by one record). */
  #overflow: WindowRecord[] = [];
  #inWindow = 0;
  #reading = false;
  #pumpQueued = false;
  #waitingForData = false;
  #stopped = false;

  constructor(spool: Spool, host: SpoolFeederHost, options: SpoolFeederOptions) {
    this.spool = spool;
    this.#host = host;
    this.#options = options;
    this.#waiters = new AddWaiters(options.maxWaitingAdds);
    this.#appender = new DurableAppender(spool, options.logger);
    this.#parked = new ParkedRecords(options.retryDelayMs, (record) => this.#offer(record));
  }

  /** Starts feeding the pipeline, recovered records first. */
  start(): void {
    this.#schedulePump();
  }

  /** Records that add() spooled and that have not settled yet. */
  get waitingAdds(): number {
    return this.#waiters.size;
  }

  /** Resolves once fewer than maxOutstandingRecords add() records wait for Kinesis (at once if they do now). */
  addRoom(): Promise<void> {
    return this.#waiters.room();
  }

  /** Records read from the spool and not yet settled (in the pipeline, or parked to go again). */
  get inWindow(): number {
    return this.#inWindow;
  }

  /**
   * Validates and spools a record; resolves once it is durable, waiting for room at spool.maxBytes.
   * Rejects with ValidationError for bad input, SpoolWriteError when the file system refused the write
   * (e.g. ENOSPC, with the path).
   */
  enqueue(record: SpoolRecord): Promise<void> {
    let payload: Buffer;
    try {
      payload = encodeUserRecord(record, this.#hashKey);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#appender.append(payload);
  }

  /**
   * Validates and spools a record for add(): resolves when Kinesis has it. Rejects at once with
   * ValidationError, or BufferFullError when the spool is full (field `spool.maxBytes`) or
   * maxOutstandingRecords add() records wait already.
   */
  add(record: SpoolRecord): Promise<UserRecordResult> {
    try {
      if (this.#waiters.full) throw new BufferFullError('maxOutstandingRecords', this.#waiters.max, this.#waiters.size);
      const sequence = this.spool.append(encodeUserRecord(record, this.#hashKey));
      const promise = this.#waiters.wait(sequence);
      this.spool.durable().catch((error: unknown) => this.#waiters.reject(sequence, error));
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Stops reading and sending again. Every record not yet acknowledged stays in the spool for the next
   * process; add()'s promises still waiting reject with ProducerClosedError.
   */
  stop(): void {
    this.#stopped = true;
    this.#appender.stop();
    this.#waiters.stop(
      new ProducerClosedError(
        'the producer closed before Kinesis stored the record; it stays in the spool and the next producer on this directory sends it',
      ),
    );
    this.#parked.clear();
  }

  #schedulePump(): void {
    if (this.#pumpQueued || this.#stopped) return;
    this.#pumpQueued = true;
    // After the settling record has left the producer's count: then the window's room is right.
    setImmediate(() => {
      this.#pumpQueued = false;
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#reading || this.#stopped) return;
    if (this.#overflow.length > 0) {
      const waiting = this.#overflow;
      this.#overflow = [];
      for (const record of waiting) this.#offer(record);
      if (this.#overflow.length > 0) return;
    }
    const room = this.#host.windowRoom();
    const records = Math.min(READ_RECORDS, room.records - this.#parked.length - this.#overflow.length);
    const bytes = Math.min(READ_BYTES, room.bytes - this.#parked.bytes);
    // Too little room for a whole record is the same as none: what settles makes more.
    if (records <= 0 || bytes <= 0) return;
    this.#reading = true;
    let entries: SpoolEntry[];
    try {
      entries = await this.spool.read(records, bytes);
    } catch (error) {
      this.#reading = false;
      if (this.#stopped) return;
      this.#options.logger?.error('spool: reading back failed; trying again in a second', { error: (error as Error).message });
      setTimeout(() => this.#schedulePump(), 1000).unref();
      return;
    }
    this.#reading = false;
    if (this.#stopped) return;
    for (const entry of entries) {
      if (this.spool.isExpired(entry)) this.#expire(entry);
      else this.#submit(entry);
    }
    if (entries.length > 0) {
      this.#schedulePump();
      return;
    }
    if (this.#waitingForData) return;
    this.#waitingForData = true;
    void this.spool.whenReadable().then(() => {
      this.#waitingForData = false;
      this.#schedulePump();
    });
  }

  #submit(entry: SpoolEntry): void {
    // The decoded record is the user record itself: its undefined fields read as absent.
    const record = decodeSpooledRecord(entry.payload);
    if (record === undefined) {
      this.#options.logger?.error('spool: a record could not be decoded; dropped', { sequence: entry.sequence });
      this.spool.acknowledge(entry.sequence, 'failed');
      return;
    }
    this.#inWindow++;
    const settle: Settle = (value) => this.#settled(entry, record, settle, value);
    if (!this.#host.submit(record, record.data, settle)) this.#overflow.push({ entry, record, data: record.data, settle });
  }

  /** Submits a record, or keeps it to go first when the window has room again. */
  #offer(record: WindowRecord): void {
    if (this.#host.submit(record.record, record.data, record.settle)) return;
    this.#overflow.push(record);
  }

  #settled(entry: SpoolEntry, record: SpooledRecord, settle: Settle, value: UserRecordResult | PromiseLike<UserRecordResult>): void {
    if (isThenable(value)) {
      value.then(undefined, (error: unknown) => this.#failed({ entry, record, data: record.data, settle }, error));
      return;
    }
    this.#inWindow--;
    this.spool.acknowledge(entry.sequence, 'delivered');
    this.#waiters.settle(entry.sequence, value);
    this.#schedulePump();
  }

  #failed(record: WindowRecord, error: unknown): void {
    const { kind, code } = failureKind(error, this.#options.failIfThrottled);
    const sequence = record.entry.sequence;
    if (kind === 'closed' || this.#stopped) {
      // Left in the spool for the next process: not acknowledged.
      this.#inWindow--;
      this.#waiters.reject(sequence, error);
      return;
    }
    if (kind === 'again' && !this.spool.isExpired(record.entry)) {
      this.#parked.park(record);
      return;
    }
    this.#inWindow--;
    this.spool.acknowledge(sequence, kind === 'for-good' ? 'failed' : 'expired');
    if (kind === 'for-good') {
      this.#options.logger?.warn('spool: record failed for good; removed from the spool', { sequence, errorCode: code });
      if (error instanceof UserRecordFailedError) this.#options.onFailure?.(error);
    }
    this.#waiters.reject(sequence, error);
    this.#schedulePump();
  }

  #expire(entry: SpoolEntry): void {
    this.spool.acknowledge(entry.sequence, 'expired');
    this.#waiters.reject(entry.sequence, expiredError(entry.payload, this.spool.maxAgeMs));
  }
}
