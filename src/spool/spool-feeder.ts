import type { Logger } from '../config.js';
import { isUnretryableErrorCode } from '../pipeline/kinesis-client.js';
import { THROTTLED_ERROR_CODE } from '../pipeline/retrier.js';
import {
  BufferFullError,
  ProducerClosedError,
  type UserRecord,
  UserRecordFailedError,
  type UserRecordResult,
  ValidationError,
  validateUserRecord,
} from '../records.js';
import { SpoolWriteError } from './errors.js';
import type { SpoolEntry } from './reader.js';
import type { Spool } from './spool.js';
import { decodeSpooledRecord, encodeSpooledRecord } from './spooled-record.js';

/** A user record that may name its own stream, as the producer takes it. */
export interface SpoolRecord extends UserRecord {
  readonly streamName?: string;
}

/** Settles a record given to the pipeline: with its result, or with a rejected promise. */
export type Settle = (value: UserRecordResult | PromiseLike<UserRecordResult>) => void;

/** What the feeder needs from the producer. */
export interface SpoolFeederHost {
  /** Room left in the in-memory window: records and payload bytes under maxOutstandingRecords/Bytes. */
  windowRoom(): { readonly records: number; readonly bytes: number };
  /** Gives a record read back from the spool to the pipeline; `settle` is called once with its outcome. False when the window has no room for it. */
  submit(record: SpoolRecord, data: Uint8Array, settle: Settle): boolean;
}

/** Options of a {@link SpoolFeeder}. */
export interface SpoolFeederOptions {
  readonly failIfThrottled: boolean;
  /** Most add() records spooled and not yet settled (maxOutstandingRecords): each holds a promise in memory. */
  readonly maxWaitingAdds: number;
  /** How long a record whose attempts ran out in the pipeline waits before it is sent again, ms. */
  readonly retryDelayMs: number;
  readonly onFailure?: ((error: UserRecordFailedError) => void) | undefined;
  readonly logger?: Logger | undefined;
}

/** A record of the window whose attempts ran out without a final answer: it goes out again later. */
interface Parked {
  readonly entry: SpoolEntry;
  readonly record: SpoolRecord;
  readonly data: Uint8Array;
  readonly settle: Settle;
}

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
  readonly #waiters = new Map<number, Settle>();
  /** Scratch for validation's hash key. */
  readonly #hashKey = new Uint32Array(4);
  #parked: Parked[] = [];
  /** Records read that found the window full (the reader may overshoot its byte bound by one record). */
  #overflow: Parked[] = [];
  #addRoomWaiters: (() => void)[] = [];
  /** The last enqueue() waiting for room at spool.maxBytes; later ones line up behind it. */
  #roomQueue: Promise<void> | undefined;
  #parkedBytes = 0;
  #parkTimer: NodeJS.Timeout | undefined;
  #inWindow = 0;
  #reading = false;
  #pumpQueued = false;
  #waitingForData = false;
  #stopped = false;

  constructor(spool: Spool, host: SpoolFeederHost, options: SpoolFeederOptions) {
    this.spool = spool;
    this.#host = host;
    this.#options = options;
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
    if (this.#waiters.size < this.#options.maxWaitingAdds || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#addRoomWaiters.push(resolve));
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
      payload = this.#encode(record);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#spoolDurably(payload);
  }

  /** Appends in turn and resolves once durable; a write refused with ENOSPC waits for room and is tried again. */
  #spoolDurably(payload: Buffer): Promise<void> {
    return this.#appendInTurn(payload).catch((error: unknown) => {
      if (!(error instanceof SpoolWriteError) || error.errno !== 'ENOSPC' || this.#stopped) throw error;
      this.#options.logger?.warn('spool: the disk is full (ENOSPC); enqueue() waits for room', { path: error.path });
      return this.#spoolDurably(payload);
    });
  }

  #appendInTurn(payload: Buffer): Promise<void> {
    try {
      if (this.#roomQueue === undefined && this.spool.hasRoom(payload.length)) {
        this.spool.append(payload);
        return this.spool.durable();
      }
    } catch (error) {
      return Promise.reject(error);
    }
    // At maxBytes, records wait in line: each is appended in the order enqueue() took it.
    let durable: Promise<void> = Promise.resolve();
    const appended = (this.#roomQueue ?? Promise.resolve()).then(async () => {
      while (!this.spool.hasRoom(payload.length) && !this.#stopped) await this.spool.waitForRoom(payload.length);
      if (this.#stopped)
        throw new ProducerClosedError('the producer closed while enqueue() waited for room in the spool; the record was not spooled');
      this.spool.append(payload);
      durable = this.spool.durable();
    });
    const queued = appended.then(
      () => undefined,
      () => undefined,
    );
    this.#roomQueue = queued;
    void queued.then(() => {
      if (this.#roomQueue === queued) this.#roomQueue = undefined;
    });
    return appended.then(() => durable);
  }

  /**
   * Validates and spools a record for add(): resolves when Kinesis has it. Rejects at once with
   * ValidationError, or BufferFullError when the spool is full (field `spool.maxBytes`) or
   * maxOutstandingRecords add() records wait already.
   */
  add(record: SpoolRecord): Promise<UserRecordResult> {
    try {
      if (this.#waiters.size >= this.#options.maxWaitingAdds) {
        throw new BufferFullError('maxOutstandingRecords', this.#options.maxWaitingAdds, this.#waiters.size);
      }
      const sequence = this.spool.append(this.#encode(record));
      const promise = new Promise<UserRecordResult>((resolve) => this.#waiters.set(sequence, resolve));
      this.spool.durable().catch((error: unknown) => this.#rejectWaiter(sequence, error));
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #encode(record: SpoolRecord): Buffer {
    const data = validateUserRecord(record, this.#hashKey, 0);
    if (record.streamName !== undefined && (typeof record.streamName !== 'string' || record.streamName.length === 0)) {
      throw new ValidationError('streamName', "a record's streamName must be a non-empty string");
    }
    return encodeSpooledRecord(record.streamName, record.partitionKey, record.explicitHashKey, data);
  }

  /**
   * Stops reading and sending again. Every record not yet acknowledged stays in the spool for the next
   * process; add()'s promises still waiting reject with ProducerClosedError.
   */
  stop(): void {
    this.#stopped = true;
    const waiters = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const wake of this.#addRoomWaiters.splice(0)) wake();
    const closed = new ProducerClosedError(
      'the producer closed before Kinesis stored the record; it stays in the spool and the next producer on this directory sends it',
    );
    for (const waiter of waiters) waiter(Promise.reject(closed));
    if (this.#parkTimer !== undefined) clearTimeout(this.#parkTimer);
    this.#parkTimer = undefined;
    this.#parked = [];
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
      for (const parked of waiting) this.#offer(parked);
      if (this.#overflow.length > 0) return;
    }
    const room = this.#host.windowRoom();
    const records = Math.min(READ_RECORDS, room.records - this.#parked.length - this.#overflow.length);
    const bytes = Math.min(READ_BYTES, room.bytes - this.#parkedBytes);
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
    const settle: Settle = (value) => this.#settled(entry, record, record.data, settle, value);
    if (!this.#host.submit(record, record.data, settle)) this.#overflow.push({ entry, record, data: record.data, settle });
  }

  /** Submits a record, or keeps it to go first when the window has room again. */
  #offer(parked: Parked): void {
    if (this.#host.submit(parked.record, parked.data, parked.settle)) return;
    this.#overflow.push(parked);
  }

  #settled(
    entry: SpoolEntry,
    record: SpoolRecord,
    data: Uint8Array,
    settle: Settle,
    value: UserRecordResult | PromiseLike<UserRecordResult>,
  ): void {
    if (isThenable(value)) {
      value.then(undefined, (error: unknown) => this.#failed(entry, record, data, settle, error));
      return;
    }
    this.#inWindow--;
    this.spool.acknowledge(entry.sequence, 'delivered');
    this.#settleWaiter(entry.sequence, value);
    this.#schedulePump();
  }

  #failed(entry: SpoolEntry, record: SpoolRecord, data: Uint8Array, settle: Settle, error: unknown): void {
    const code = error instanceof UserRecordFailedError ? error.errorCode || lastCode(error) : '';
    if (code === 'ProducerClosed' || this.#stopped) {
      // Left in the spool for the next process: not acknowledged.
      this.#inWindow--;
      this.#rejectWaiter(entry.sequence, error);
      return;
    }
    const forGood = isUnretryableErrorCode(code) || (this.#options.failIfThrottled && code === THROTTLED_ERROR_CODE);
    if (forGood || this.spool.isExpired(entry)) {
      this.#inWindow--;
      this.spool.acknowledge(entry.sequence, forGood ? 'failed' : 'expired');
      if (forGood) {
        this.#options.logger?.warn('spool: record failed for good; removed from the spool', { sequence: entry.sequence, errorCode: code });
        if (error instanceof UserRecordFailedError) this.#options.onFailure?.(error);
      }
      this.#rejectWaiter(entry.sequence, error);
      this.#schedulePump();
      return;
    }
    this.#parked.push({ entry, record, data, settle });
    this.#parkedBytes += data.length + record.partitionKey.length;
    this.#parkTimer ??= setTimeout(() => this.#unpark(), this.#options.retryDelayMs);
  }

  #expire(entry: SpoolEntry): void {
    this.spool.acknowledge(entry.sequence, 'expired');
    this.#rejectWaiter(
      entry.sequence,
      new UserRecordFailedError(
        { partitionKey: '', data: entry.payload },
        [],
        `record dropped unsent: older than spool.maxAgeMs (${this.spool.maxAgeMs.toLocaleString('en-US')} ms)`,
        { reason: 'expired', errorCode: 'Expired' },
      ),
    );
  }

  #unpark(): void {
    this.#parkTimer = undefined;
    const parked = this.#parked;
    this.#parked = [];
    this.#parkedBytes = 0;
    for (const each of parked) this.#offer(each);
  }

  /** Rejects add()'s promise for `sequence`, if add() took it; the rejected promise is made only then. */
  #rejectWaiter(sequence: number, error: unknown): void {
    const waiter = this.#takeWaiter(sequence);
    waiter?.(Promise.reject(error));
  }

  #settleWaiter(sequence: number, value: UserRecordResult | PromiseLike<UserRecordResult>): void {
    this.#takeWaiter(sequence)?.(value);
  }

  #takeWaiter(sequence: number): Settle | undefined {
    const waiter = this.#waiters.get(sequence);
    if (waiter === undefined) return undefined;
    this.#waiters.delete(sequence);
    if (this.#addRoomWaiters.length > 0 && this.#waiters.size < this.#options.maxWaitingAdds) {
      const waiting = this.#addRoomWaiters;
      this.#addRoomWaiters = [];
      for (const wake of waiting) wake();
    }
    return waiter;
  }
}

function lastCode(error: UserRecordFailedError): string {
  return error.attempts[error.attempts.length - 1]?.errorCode ?? '';
}

function isThenable(value: unknown): value is PromiseLike<UserRecordResult> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
