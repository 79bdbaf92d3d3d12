import { accessSync, closeSync, constants, mkdirSync } from 'node:fs';
import type { Logger } from '../config.js';
import { ProducerClosedError } from '../records.js';
import { DoneCursor } from './done-cursor.js';
import { SpoolWriteError } from './errors.js';
import { frameBytes, writeFrame } from './frame.js';
import { LedgerWrites } from './ledger-writes.js';
import { acquireLock } from './lock.js';
import { type ReaderSource, type SpoolEntry, SpoolReader } from './reader.js';
import { AppendTimeline } from './oldest-record.js';
import { recoverSegments } from './recovery.js';
import { SpoolRoom, spoolFullError } from './room.js';
import { createSegment, deleteSegmentFiles, findSegment, type Segment } from './segment.js';
import { defaultSegmentBytes, SPOOL_DEFAULTS, type SpoolOptions, type SpoolOutcome, type SpoolStats } from './spool-options.js';
import { GroupCommitWriter } from './writer.js';

export { SPOOL_DEFAULTS, type SpoolOptions, type SpoolOutcome, type SpoolStats } from './spool-options.js';

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
  readonly #room = new SpoolRoom();
  readonly #done: DoneCursor;
  readonly #ledgerWrites: LedgerWrites;
  readonly #timeline: AppendTimeline;
  #segments: Segment[];
  #active: Segment;
  #nextSequence: number;
  #sealedBytes: number;
  #records: number;
  #readableWaiters: (() => void)[] = [];
  #closed = false;
  #counts = { recovered: 0, delivered: 0, failed: 0, expired: 0, corrupt: 0, truncatedBytes: 0 };

  private constructor(options: SpoolOptions, releaseLock: () => void) {
    this.directory = options.directory;
    this.maxBytes = options.maxBytes ?? SPOOL_DEFAULTS.maxBytes;
    this.maxAgeMs = options.maxAgeMs ?? SPOOL_DEFAULTS.maxAgeMs;
    this.#segmentBytes = options.segmentBytes ?? defaultSegmentBytes(this.maxBytes);
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#releaseLock = releaseLock;
    this.#writer = new GroupCommitWriter(
      {
        synced: (target, lastSequence) => this.#synced(target as Segment, lastSequence),
        failed: (first, last, error) => this.#writeFailed(first, last, error),
      },
      options.syncIntervalMs ?? SPOOL_DEFAULTS.syncIntervalMs,
    );
    const recovered = recoverSegments(this.directory, this.#logger);
    this.#segments = recovered.segments;
    this.#records = recovered.records;
    this.#sealedBytes = recovered.sealedBytes;
    this.#counts.recovered = recovered.records;
    this.#counts.truncatedBytes = recovered.truncatedBytes;
    this.#active = this.#segments[this.#segments.length - 1] as Segment;
    this.#nextSequence = this.#active.endSequence;
    const firstBase = this.#segments[0]?.base ?? 0;
    this.#timeline = new AppendTimeline(AppendTimeline.resolutionFor(this.maxAgeMs));
    for (const held of recovered.held) this.#timeline.mark(held.sequence, held.appendedAt);
    this.#done = new DoneCursor(firstBase, (sequence) => this.#isDone(sequence));
    this.#advanceDone();
    this.#ledgerWrites = new LedgerWrites(() => this.#segments.map((segment) => segment.ledger), this.#logger);
    this.#reader = new SpoolReader(this.#readerSource(), firstBase);
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
      oldestAppendedAt: this.#records === 0 ? undefined : this.#timeline.appendedAtOf(this.#done.low),
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
    if (this.#room.diskFull) return false;
    return this.bytes + frameBytes(payloadBytes) <= this.maxBytes || this.#reclaimActive(payloadBytes);
  }

  /** Resolves once a record of `payloadBytes` fits (at once if it does now). */
  waitForRoom(payloadBytes: number): Promise<void> {
    return this.#room.waitFor(() => this.hasRoom(payloadBytes) || this.#closed);
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
      throw spoolFullError(this.maxBytes, this.bytes, this.directory, this.#room.diskFull);
    }
    if (this.#active.size > 0 && this.#active.size + bytes > this.#segmentBytes) this.#roll();
    const sequence = this.#nextSequence++;
    const segment = this.#active;
    const appendedAt = this.#now();
    this.#timeline.appended(sequence, appendedAt);
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
    const segment = findSegment(this.#segments, sequence);
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
    return this.#done.whenDone(this.#nextSequence - 1);
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
    this.#ledgerWrites.close();
    if (this.#active.fd >= 0 && !this.#active.sealed) closeSync(this.#active.fd);
    await this.#reader.close();
    this.#releaseLock();
    this.#room.close();
    for (const wake of this.#readableWaiters.splice(0)) wake();
  }

  #roll(): void {
    const previous = this.#active;
    this.#writer.seal(previous);
    this.#sealedBytes += previous.size;
    this.#active = createSegment(this.directory, this.#nextSequence);
    this.#segments.push(this.#active);
    this.#deleteIfFinished(previous);
  }

  /** At maxBytes with the active segment wholly done: start a new one so the old one can go. */
  #reclaimActive(payloadBytes: number): boolean {
    const active = this.#active;
    if (active.size === 0 || active.undone > 0 || this.#writer.busy) return false;
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
      const segment = findSegment(this.#segments, sequence);
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
    const segment = findSegment(this.#segments, sequence);
    return segment === undefined || segment.ledger.isDone(sequence - segment.base);
  }

  #afterDone(segment: Segment, sequence: number): void {
    this.#ledgerWrites.queue();
    if (sequence === this.#done.low) this.#advanceDone();
    this.#deleteIfFinished(segment);
  }

  #deleteIfFinished(segment: Segment): void {
    if (segment === this.#active || !segment.finished) return;
    const index = this.#segments.indexOf(segment);
    if (index < 0) return;
    this.#segments.splice(index, 1);
    this.#sealedBytes -= segment.size;
    segment.ledger.close();
    deleteSegmentFiles(segment);
    this.#room.freed();
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
      const segment = findSegment(this.#segments, sequence);
      if (segment === undefined || !segment.ledger.markDone(sequence - segment.base)) continue;
      this.#records--;
      if (sequence === this.#done.low) this.#advanceDone();
    }
    this.#sealedBytes = 0;
    for (const segment of this.#segments) if (segment !== this.#active) this.#sealedBytes += segment.size;
    if (error.errno === 'ENOSPC') this.#room.diskFilled();
  }

  #advanceDone(): void {
    this.#done.advance(this.#nextSequence);
    this.#timeline.passed(this.#done.low);
  }
}
