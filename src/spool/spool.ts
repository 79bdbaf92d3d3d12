import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  unlink,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../config.js';
import { BufferFullError, ProducerClosedError } from '../records.js';
import { SpoolWriteError } from './errors.js';
import { FRAME_HEADER_BYTES, frameBytes, writeFrame } from './frame.js';
import { AckLedger } from './ledger.js';
import { acquireLock } from './lock.js';
import { type ReadableSegment, type ReaderSource, type SpoolEntry, SpoolReader } from './reader.js';
import { ledgerFileName, parseSpoolFileName, recoverTail, segmentFileName } from './segment.js';
import { GroupCommitWriter, type WriteTarget } from './writer.js';

/** Options of a {@link Spool}. */
export interface SpoolOptions {
  /** The directory holding the spool's files; created if missing. One process at a time. */
  readonly directory: string;
  /** Most bytes of segment files on disk; appends beyond wait for room or are refused. @default 1 GiB */
  readonly maxBytes?: number;
  /** Records older than this (ms since they were appended) are dropped, counted, unsent. @default 7 days */
  readonly maxAgeMs?: number;
  /** Most time in ms between two fsyncs of appended records (0: one right after another). @default 100 */
  readonly syncIntervalMs?: number;
  /** Largest segment file in bytes; the disk is freed a whole segment at a time. @default maxBytes / 16, from 64 KiB to 16 MiB */
  readonly segmentBytes?: number;
  /** Where recovery and damage are reported. */
  readonly logger?: Logger;
  /** The wall clock in ms, for records' ages. @default Date.now */
  readonly now?: () => number;
}

/** How a record left the spool. */
export type SpoolOutcome = 'delivered' | 'failed' | 'expired';

/** The spool's counts, for metrics and logs. */
export interface SpoolStats {
  /** Bytes of segment files. */
  readonly bytes: number;
  /** Records held: appended or recovered, not yet done. */
  readonly records: number;
  /** Append time (ms since the epoch) of the oldest held segment's first record; undefined when empty. */
  readonly oldestAppendedAt: number | undefined;
  /** Records found undone at open, left by an earlier process. */
  readonly recovered: number;
  readonly delivered: number;
  readonly failed: number;
  /** Records dropped unsent because they were older than maxAgeMs. */
  readonly expired: number;
  /** Records lost to damaged frames, skipped. */
  readonly corrupt: number;
  /** Bytes cut from the last segment's end at open: a torn write. */
  readonly truncatedBytes: number;
}

/** Defaults of {@link SpoolOptions}. */
export const SPOOL_DEFAULTS = {
  maxBytes: 1024 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  syncIntervalMs: 100,
} as const;

const MIN_SEGMENT_BYTES = 64 * 1024;
/** After ENOSPC, how long appends are refused before the disk is tried again, if no segment was freed sooner. */
const DISK_FULL_RETRY_MS = 1000;
const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;

/** One segment file and its ledger. */
class Segment implements WriteTarget, ReadableSegment {
  fd = -1;
  sealed = true;
  syncedSize: number;
  /** The sequence after the last record appended; for a sealed segment, the next one's base. */
  endSequence: number;
  syncedEndSequence: number;
  firstAppendedAt: number | undefined;

  constructor(
    readonly base: number,
    readonly path: string,
    readonly ledger: AckLedger,
    public size: number,
    endSequence: number,
  ) {
    this.syncedSize = size;
    this.endSequence = endSequence;
    this.syncedEndSequence = endSequence;
  }

  get readableSize(): number {
    return this.syncedSize;
  }

  get readableEndSequence(): number {
    return this.syncedEndSequence;
  }

  get complete(): boolean {
    return this.sealed && this.syncedSize === this.size;
  }

  /** Done when sealed, synced whole, and every record in it is done. */
  get finished(): boolean {
    return this.complete && this.ledger.doneCount >= this.endSequence - this.base;
  }
}

interface DoneWaiter {
  readonly sequence: number;
  readonly resolve: () => void;
}

/**
 * A durable spool of records on disk: append-only segment files of checksummed frames, made durable
 * by group commit, read back in order a window at a time, and acknowledged record by record in any
 * order. A segment file is deleted once every record in it is done. See README "Gateways".
 */
export class Spool {
  readonly directory: string;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly #segmentBytes: number;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #releaseLock: () => void;
  readonly #writer: GroupCommitWriter;
  readonly #reader: SpoolReader;
  #segments: Segment[];
  #active: Segment;
  #nextSequence: number;
  #sealedBytes = 0;
  #records = 0;
  #doneLow: number;
  #doneWaiters: DoneWaiter[] = [];
  #roomWaiters: (() => void)[] = [];
  #readableWaiters: (() => void)[] = [];
  #ledgerWriteQueued = false;
  /** The file system said ENOSPC: no room until a segment is deleted or DISK_FULL_RETRY_MS pass. */
  #diskFull = false;
  #diskFullTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #counts = { recovered: 0, delivered: 0, failed: 0, expired: 0, corrupt: 0, truncatedBytes: 0 };

  private constructor(options: SpoolOptions, releaseLock: () => void) {
    this.directory = options.directory;
    this.maxBytes = options.maxBytes ?? SPOOL_DEFAULTS.maxBytes;
    this.maxAgeMs = options.maxAgeMs ?? SPOOL_DEFAULTS.maxAgeMs;
    this.#segmentBytes = options.segmentBytes ?? Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(this.maxBytes / 16)));
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#releaseLock = releaseLock;
    const syncIntervalMs = options.syncIntervalMs ?? SPOOL_DEFAULTS.syncIntervalMs;
    this.#writer = new GroupCommitWriter(
      {
        synced: (target, lastSequence) => this.#synced(target as Segment, lastSequence),
        failed: (first, last, error) => this.#writeFailed(first, last, error),
      },
      syncIntervalMs,
    );
    this.#segments = this.#recover();
    this.#active = this.#segments[this.#segments.length - 1] as Segment;
    this.#nextSequence = this.#active.endSequence;
    this.#doneLow = this.#segments[0]?.base ?? 0;
    this.#advanceDoneLow();
    this.#reader = new SpoolReader(this.#readerSource(), this.#segments[0]?.base ?? 0);
  }

  /**
   * Opens (or creates) the spool in `options.directory`: takes its lock, recovers the last segment
   * (cutting a torn frame off its end) and loads the ledgers. Synchronous: it runs once, at start.
   * @throws SpoolLockedError when another live process holds the directory.
   * @throws SpoolWriteError when the directory cannot be created or written.
   */
  static open(options: SpoolOptions): Spool {
    const directory = options.directory;
    try {
      mkdirSync(directory, { recursive: true });
      accessSync(directory, constants.W_OK | constants.R_OK | constants.X_OK);
    } catch (error) {
      throw new SpoolWriteError(directory, error as NodeJS.ErrnoException, 'write to its directory');
    }
    const release = acquireLock(directory);
    try {
      return new Spool(options, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** The spool's counts now. */
  get stats(): SpoolStats {
    return {
      bytes: this.bytes,
      records: this.#records,
      oldestAppendedAt: this.#oldestAppendedAt(),
      ...this.#counts,
    };
  }

  /** Bytes of segment files, counting appends not yet written. */
  get bytes(): number {
    return this.#sealedBytes + this.#active.size;
  }

  /** Records held: appended or recovered and not yet done. */
  get records(): number {
    return this.#records;
  }

  /** Whether a record with a payload of `payloadBytes` fits under maxBytes now. */
  hasRoom(payloadBytes: number): boolean {
    if (this.#diskFull) return false;
    return this.bytes + frameBytes(payloadBytes) <= this.maxBytes || this.#reclaimActive(payloadBytes);
  }

  /** Resolves once a record of `payloadBytes` fits (at once if it does now). */
  waitForRoom(payloadBytes: number): Promise<void> {
    if (this.hasRoom(payloadBytes) || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.hasRoom(payloadBytes) || this.#closed) resolve();
        else this.#roomWaiters.push(check);
      };
      this.#roomWaiters.push(check);
    });
  }

  /**
   * Appends one record's payload and returns its sequence number. {@link durable} gives the promise
   * of its fsync. The payload is copied: the caller may reuse it.
   * @throws BufferFullError (limit `spool.maxBytes`) when it does not fit; nothing is appended.
   */
  append(payload: Uint8Array): number {
    if (this.#closed) throw new ProducerClosedError(`the spool in ${this.directory} is closed`);
    const bytes = frameBytes(payload.length);
    if (!this.hasRoom(payload.length)) {
      throw spoolFullError(this.maxBytes, this.bytes, this.directory, this.#diskFull);
    }
    if (this.#active.size > 0 && this.#active.size + bytes > this.#segmentBytes) this.#roll();
    const sequence = this.#nextSequence++;
    const segment = this.#active;
    const appendedAt = this.#now();
    segment.firstAppendedAt ??= appendedAt;
    segment.endSequence = this.#nextSequence;
    const offset = this.#writer.reserve(segment, sequence, bytes);
    writeFrame(this.#writer.buffer, offset, sequence, appendedAt, payload);
    this.#records++;
    return sequence;
  }

  /** Resolves once every record appended so far is synced to disk; rejects with SpoolWriteError if the last one's write failed. */
  durable(): Promise<void> {
    return this.#writer.durable();
  }

  /**
   * Reads the next records in order, up to `maxRecords` of `maxBytes` payload in all. Only synced
   * records are read, and records already done are passed over; a caller drops the ones that
   * {@link isExpired} says are too old by acknowledging them as expired. An empty result means none
   * are readable now: see {@link whenReadable}.
   */
  read(maxRecords: number, maxBytes: number): Promise<SpoolEntry[]> {
    return this.#reader.read(maxRecords, maxBytes);
  }

  /** Whether records wait on disk beyond what read() has returned. */
  get readable(): boolean {
    const last = this.#segments[this.#segments.length - 1];
    return last !== undefined && last.syncedEndSequence > this.#reader.position;
  }

  /** Resolves once read() may return records (at once if it may now). */
  whenReadable(): Promise<void> {
    if (this.readable || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#readableWaiters.push(resolve));
  }

  /** Whether a record read back is older than maxAgeMs now. */
  isExpired(entry: SpoolEntry): boolean {
    return this.#now() - entry.appendedAt > this.maxAgeMs;
  }

  /**
   * Marks a record done: stored by Kinesis, failed for good, or expired. In any order; a record
   * acknowledged twice counts once. Its segment is deleted once all of its records are done.
   */
  acknowledge(sequence: number, outcome: SpoolOutcome): void {
    const segment = this.#segmentOf(sequence);
    if (segment === undefined || !segment.ledger.markDone(sequence - segment.base)) return;
    this.#records--;
    this.#counts[outcome]++;
    if (outcome === 'expired') {
      this.#logger?.warn('spool: record dropped, older than spool.maxAgeMs', {
        sequence,
        maxAgeMs: this.maxAgeMs,
        directory: this.directory,
      });
    }
    this.#afterDone(segment, sequence);
  }

  /** Resolves once every record appended before the call is done (delivered, failed or expired). */
  whenDone(): Promise<void> {
    const sequence = this.#nextSequence - 1;
    if (this.#doneLow > sequence) return Promise.resolve();
    return new Promise((resolve) => this.#doneWaiters.push({ sequence, resolve }));
  }

  /**
   * Writes what is appended and syncs it, writes the ledgers, and releases the directory. Records not
   * yet done stay on disk for the next process.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#writer.flushNow();
    this.#closed = true;
    this.#writer.stop();
    if (this.#diskFullTimer !== undefined) clearTimeout(this.#diskFullTimer);
    for (const segment of this.#segments) {
      try {
        segment.ledger.writePendingSync();
      } catch (error) {
        this.#logger?.error('spool: could not write an acknowledgement ledger', { path: (error as SpoolWriteError).path });
      }
      segment.ledger.close();
    }
    if (this.#active.fd >= 0 && !this.#active.sealed) closeSync(this.#active.fd);
    await this.#reader.close();
    this.#releaseLock();
    for (const wake of this.#roomWaiters.splice(0)) wake();
    for (const wake of this.#readableWaiters.splice(0)) wake();
  }

  #recover(): Segment[] {
    const bases = new Set<number>();
    const ledgers = new Set<number>();
    for (const name of readdirSync(this.directory)) {
      const parsed = parseSpoolFileName(name);
      if (parsed === undefined) continue;
      (parsed.kind === 'segment' ? bases : ledgers).add(parsed.base);
    }
    for (const base of ledgers) if (!bases.has(base)) unlinkQuietly(join(this.directory, ledgerFileName(base)));
    const sorted = [...bases].sort((a, b) => a - b);
    const segments: Segment[] = [];
    for (let i = 0; i < sorted.length; i++) {
      const base = sorted[i] as number;
      const path = join(this.directory, segmentFileName(base));
      const next = sorted[i + 1];
      let size: number;
      let endSequence: number;
      if (next === undefined) {
        const tail = recoverTail(path, base);
        size = tail.size;
        endSequence = tail.nextSequence;
        if (tail.truncatedBytes > 0) {
          this.#counts.truncatedBytes += tail.truncatedBytes;
          this.#logger?.warn('spool: cut a torn frame off the last segment', { path, bytes: tail.truncatedBytes });
        }
      } else {
        size = statSync(path).size;
        endSequence = next;
      }
      const ledger = AckLedger.load(join(this.directory, ledgerFileName(base)), endSequence - base);
      const segment = new Segment(base, path, ledger, size, endSequence);
      segment.firstAppendedAt = readFirstAppendedAt(path);
      segments.push(segment);
    }
    const last = segments[segments.length - 1];
    let active: Segment;
    if (last === undefined) {
      active = this.#createSegment(0);
      segments.push(active);
    } else {
      active = last;
      try {
        active.fd = openSync(active.path, 'r+');
      } catch (error) {
        throw new SpoolWriteError(active.path, error as NodeJS.ErrnoException, 'open');
      }
      active.sealed = false;
    }
    const kept: Segment[] = [];
    for (const segment of segments) {
      const undone = segment.endSequence - segment.base - segment.ledger.doneCount;
      if (segment !== active && undone <= 0) {
        this.#deleteFiles(segment);
        continue;
      }
      kept.push(segment);
      this.#records += undone;
      if (segment !== active) this.#sealedBytes += segment.size;
    }
    this.#counts.recovered = this.#records;
    if (this.#records > 0) {
      this.#logger?.info('spool: recovered records left by an earlier process', {
        directory: this.directory,
        records: this.#records,
        segments: kept.length,
      });
    }
    return kept;
  }

  #createSegment(base: number): Segment {
    const path = join(this.directory, segmentFileName(base));
    const ledger = AckLedger.load(join(this.directory, ledgerFileName(base)));
    const segment = new Segment(base, path, ledger, 0, base);
    try {
      segment.fd = openSync(path, 'w+', 0o644);
      // The new file's name must survive a crash as well as its contents.
      const directory = openSync(this.directory, 'r');
      try {
        fsyncSync(directory);
      } finally {
        closeSync(directory);
      }
    } catch (error) {
      throw new SpoolWriteError(path, error as NodeJS.ErrnoException, 'create');
    }
    segment.sealed = false;
    return segment;
  }

  #roll(): void {
    const previous = this.#active;
    this.#writer.seal(previous);
    this.#sealedBytes += previous.size;
    this.#active = this.#createSegment(this.#nextSequence);
    this.#segments.push(this.#active);
    this.#deleteIfFinished(previous);
  }

  /** At maxBytes with the active segment wholly done: start a new one so the old one can go. */
  #reclaimActive(payloadBytes: number): boolean {
    const active = this.#active;
    if (active.size === 0 || active.ledger.doneCount < active.endSequence - active.base || this.#writer.busy) return false;
    this.#roll();
    return this.bytes + frameBytes(payloadBytes) <= this.maxBytes;
  }

  #readerSource(): ReaderSource {
    return {
      segmentFrom: (base) => this.#segments.find((segment) => segment.base >= base || segment.endSequence > base),
      isDone: (sequence) => this.#isDone(sequence),
      lost: (from, to) => this.#lost(from, to),
    };
  }

  #lost(from: number, to: number): void {
    let counted = 0;
    for (let sequence = from; sequence < to; sequence++) {
      const segment = this.#segmentOf(sequence);
      if (segment === undefined || !segment.ledger.markDone(sequence - segment.base)) continue;
      counted++;
      this.#records--;
      this.#afterDone(segment, sequence);
    }
    if (counted === 0) return;
    this.#counts.corrupt += counted;
    this.#logger?.warn('spool: skipped damaged records', { directory: this.directory, from, to, records: counted });
  }

  #isDone(sequence: number): boolean {
    const segment = this.#segmentOf(sequence);
    return segment === undefined || segment.ledger.isDone(sequence - segment.base);
  }

  #segmentOf(sequence: number): Segment | undefined {
    const segments = this.#segments;
    let low = 0;
    let high = segments.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const segment = segments[middle] as Segment;
      if (sequence < segment.base) high = middle - 1;
      else if (sequence >= segment.endSequence) low = middle + 1;
      else return segment;
    }
    return undefined;
  }

  #afterDone(segment: Segment, sequence: number): void {
    this.#queueLedgerWrite();
    if (sequence === this.#doneLow) this.#advanceDoneLow();
    this.#deleteIfFinished(segment);
  }

  #advanceDoneLow(): void {
    while (this.#doneLow < this.#nextSequence && this.#isDone(this.#doneLow)) this.#doneLow++;
    if (this.#doneWaiters.length === 0) return;
    const waiting: DoneWaiter[] = [];
    for (const waiter of this.#doneWaiters) {
      if (waiter.sequence < this.#doneLow) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#doneWaiters = waiting;
  }

  #deleteIfFinished(segment: Segment): void {
    if (segment === this.#active || !segment.finished) return;
    const index = this.#segments.indexOf(segment);
    if (index < 0) return;
    this.#segments.splice(index, 1);
    this.#sealedBytes -= segment.size;
    segment.ledger.close();
    this.#deleteFiles(segment);
    this.#diskFull = false;
    this.#wakeRoomWaiters();
  }

  #wakeRoomWaiters(): void {
    if (this.#roomWaiters.length === 0) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const check of waiters) check();
  }

  #deleteFiles(segment: Segment): void {
    // The data first: a ledger without its segment is removed at the next open; the reverse would resend the segment.
    unlink(segment.path, () => unlink(segment.ledger.path, () => undefined));
  }

  #synced(segment: Segment, lastSequence: number): void {
    segment.syncedEndSequence = lastSequence + 1;
    this.#deleteIfFinished(segment);
    if (this.#readableWaiters.length === 0) return;
    const waiters = this.#readableWaiters;
    this.#readableWaiters = [];
    for (const wake of waiters) wake();
  }

  #writeFailed(first: number, last: number, error: SpoolWriteError): void {
    this.#logger?.error('spool: append failed; the records were refused', {
      path: error.path,
      errno: error.errno,
      records: last - first + 1,
    });
    for (let sequence = first; sequence <= last; sequence++) {
      const segment = this.#segmentOf(sequence);
      if (segment === undefined || !segment.ledger.markDone(sequence - segment.base)) continue;
      this.#records--;
      if (sequence === this.#doneLow) this.#advanceDoneLow();
    }
    this.#sealedBytes = 0;
    for (const segment of this.#segments) if (segment !== this.#active) this.#sealedBytes += segment.size;
    if (error.errno === 'ENOSPC' && !this.#diskFull) {
      this.#diskFull = true;
      // Space may come back from elsewhere on the disk, not only from our own deletions: try again later.
      this.#diskFullTimer = setTimeout(() => {
        this.#diskFull = false;
        this.#wakeRoomWaiters();
      }, DISK_FULL_RETRY_MS);
      this.#diskFullTimer.unref();
    }
  }

  /**
   * Writes the acknowledgements of this turn of the event loop together, without an fsync: a killed
   * process loses none that were written, and a power cut at worst sends their records again.
   */
  #queueLedgerWrite(): void {
    if (this.#ledgerWriteQueued || this.#closed) return;
    this.#ledgerWriteQueued = true;
    setImmediate(() => {
      this.#ledgerWriteQueued = false;
      if (!this.#closed) this.#writeLedgers();
    });
  }

  #writeLedgers(): void {
    const reported = (error: SpoolWriteError | undefined): void => {
      if (error !== undefined)
        this.#logger?.error('spool: could not write an acknowledgement ledger', { path: error.path, errno: error.errno });
    };
    for (const segment of this.#segments) segment.ledger.writePending(false, reported);
  }

  #oldestAppendedAt(): number | undefined {
    if (this.#records === 0) return undefined;
    for (const segment of this.#segments) if (segment.firstAppendedAt !== undefined) return segment.firstAppendedAt;
    return undefined;
  }
}

function spoolFullError(maxBytes: number, bytes: number, directory: string, diskFull: boolean): BufferFullError {
  const error = new BufferFullError('spool.maxBytes', maxBytes, bytes);
  error.message = diskFull
    ? `the disk under the spool in ${directory} is full (ENOSPC) at ${bytes.toLocaleString('en-US')} bytes of spool, ` +
      `below spool.maxBytes of ${maxBytes.toLocaleString('en-US')}; enqueue() waits for room instead of failing`
    : `spool.maxBytes reached: the spool in ${directory} holds ${bytes.toLocaleString('en-US')} bytes, ` +
      `the limit is ${maxBytes.toLocaleString('en-US')}; enqueue() waits for room instead of failing`;
  return error;
}

function readFirstAppendedAt(path: string): number | undefined {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, header, 0, FRAME_HEADER_BYTES, 0) < FRAME_HEADER_BYTES) return undefined;
  } finally {
    closeSync(fd);
  }
  const appendedAt = header.readDoubleLE(16);
  return Number.isFinite(appendedAt) ? appendedAt : undefined;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to remove.
  }
}
