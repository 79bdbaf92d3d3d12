import { close, fdatasync, ftruncate, writev } from 'node:fs';
import { SpoolWriteError } from './errors.js';

/** A segment file being appended to. */
export interface WriteTarget {
  readonly fd: number;
  readonly path: string;
  /** Bytes appended so far, written or not: where the next frame goes. */
  size: number;
  /** Bytes written and synced: what a reader may read and a crash keeps. */
  syncedSize: number;
  /** No frame will be appended any more; its file is closed once its last batch is synced. */
  sealed: boolean;
}

/** Frames appended to one target since the last write, and the promise of their sync. */
interface Batch {
  readonly target: WriteTarget;
  readonly startOffset: number;
  /** Finished stretches of slabs; the open stretch is [openStart, openEnd) of openSlab. */
  readonly chunks: Buffer[];
  openSlab: Buffer | undefined;
  openStart: number;
  openEnd: number;
  bytes: number;
  readonly firstSequence: number;
  lastSequence: number;
  readonly durable: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** What the writer tells its owner. */
export interface WriterEvents {
  /** Frames through `lastSequence` of `target` are on disk and synced. */
  synced(target: WriteTarget, lastSequence: number): void;
  /** Frames from `firstSequence` through `lastSequence` could not be written; their appends were rejected with `error`. */
  failed(firstSequence: number, lastSequence: number, error: SpoolWriteError): void;
}

const SLAB_BYTES = 256 * 1024;

/**
 * Group commit: frames appended within one interval are written with one writev and made durable by
 * one fdatasync, and their shared promise resolves after it. A sync starts at most every
 * `syncIntervalMs` (0: as soon as the previous one ends), so a busy spool costs one fsync an
 * interval whatever its record rate.
 */
export class GroupCommitWriter {
  readonly #events: WriterEvents;
  readonly #syncIntervalMs: number;
  readonly #now: () => number;
  #batches: Batch[] = [];
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  #slabUsed = 0;
  #syncing = false;
  #timer: NodeJS.Timeout | undefined;
  #lastSyncStart = -Infinity;
  #idle: (() => void)[] = [];

  constructor(events: WriterEvents, syncIntervalMs: number, now: () => number = Date.now) {
    this.#events = events;
    this.#syncIntervalMs = syncIntervalMs;
    this.#now = now;
  }

  /** The buffer that {@link reserve}'s offsets point into. */
  get buffer(): Buffer {
    return this.#slab;
  }

  /**
   * Reserves `bytes` at the end of `target` for the frame of `sequence` and returns the offset in
   * {@link buffer} to encode it at, before the next call. {@link durable} then gives its promise.
   */
  reserve(target: WriteTarget, sequence: number, bytes: number): number {
    let batch = this.#batches[this.#batches.length - 1];
    if (batch === undefined || batch.target !== target || this.#syncingBatch === batch) {
      batch = this.#openBatch(target, sequence);
    }
    if (this.#slab.length - this.#slabUsed < bytes) {
      // Earlier batches keep their views of the old slab; it is never written into again.
      this.#slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, bytes));
      this.#slabUsed = 0;
    }
    const offset = this.#slabUsed;
    this.#slabUsed += bytes;
    if (batch.openSlab === this.#slab && batch.openEnd === offset) {
      batch.openEnd += bytes;
    } else {
      closeStretch(batch);
      batch.openSlab = this.#slab;
      batch.openStart = offset;
      batch.openEnd = offset + bytes;
    }
    batch.bytes += bytes;
    batch.lastSequence = sequence;
    target.size += bytes;
    this.#schedule();
    return offset;
  }

  #syncingBatch: Batch | undefined;

  /** The promise of the batch that the last reserved frame belongs to: it resolves once that frame is synced. */
  durable(): Promise<void> {
    const batch = this.#batches[this.#batches.length - 1];
    return batch === undefined ? Promise.resolve() : batch.durable;
  }

  /** Whether frames wait to be written or a sync is running. */
  get busy(): boolean {
    return this.#syncing || this.#batches.length > 0;
  }

  /** Writes and syncs everything appended so far now, not waiting for the interval; resolves when done. */
  flushNow(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const done = new Promise<void>((resolve) => this.#idle.push(resolve));
    if (!this.#syncing) this.#syncNext();
    return done;
  }

  /** Marks `target` as complete: its file is closed once its last batch is synced. */
  seal(target: WriteTarget): void {
    target.sealed = true;
    if (this.#batches.every((batch) => batch.target !== target)) close(target.fd, () => undefined);
  }

  /** Stops the timer; frames not yet written are not written. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #openBatch(target: WriteTarget, sequence: number): Batch {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const durable = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers that only wait for room may never look at this promise; a failure is reported to them through append's own promise.
    durable.catch(() => undefined);
    const batch: Batch = {
      target,
      startOffset: target.size,
      chunks: [],
      openSlab: undefined,
      openStart: 0,
      openEnd: 0,
      bytes: 0,
      firstSequence: sequence,
      lastSequence: sequence,
      durable,
      resolve,
      reject,
    };
    this.#batches.push(batch);
    return batch;
  }

  #schedule(): void {
    if (this.#syncing || this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastSyncStart + this.#syncIntervalMs - this.#now());
    // setTimeout even for 0: the appends of the current tick join this batch.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#syncNext();
    }, wait);
  }

  #syncNext(): void {
    const batch = this.#batches[0];
    if (batch === undefined) {
      this.#syncing = false;
      const idle = this.#idle;
      this.#idle = [];
      for (const wake of idle) wake();
      return;
    }
    this.#syncing = true;
    this.#syncingBatch = batch;
    this.#lastSyncStart = this.#now();
    closeStretch(batch);
    writev(batch.target.fd, batch.chunks, batch.startOffset, (writeError) => {
      if (writeError !== null) {
        this.#fail(batch, writeError, 'write');
        return;
      }
      fdatasync(batch.target.fd, (syncError) => {
        if (syncError !== null) {
          this.#fail(batch, syncError, 'sync');
          return;
        }
        this.#done(batch);
      });
    });
  }

  #done(batch: Batch): void {
    this.#batches.shift();
    this.#syncingBatch = undefined;
    const target = batch.target;
    target.syncedSize = batch.startOffset + batch.bytes;
    if (target.sealed && this.#batches.every((next) => next.target !== target)) close(target.fd, () => undefined);
    this.#events.synced(target, batch.lastSequence);
    batch.resolve();
    this.#continue();
  }

  #fail(batch: Batch, cause: NodeJS.ErrnoException, doing: string): void {
    this.#syncingBatch = undefined;
    const error = new SpoolWriteError(batch.target.path, cause, doing === 'write' ? 'write to' : 'sync');
    // Every later batch was laid out after this one: none of them can be written where it belongs.
    const failed = this.#batches;
    this.#batches = [];
    const truncated = new Set<WriteTarget>();
    for (const each of failed) {
      if (truncated.has(each.target)) continue;
      truncated.add(each.target);
      each.target.size = each.startOffset;
      ftruncate(each.target.fd, each.startOffset, () => undefined);
    }
    for (const each of failed) {
      each.reject(error);
      this.#events.failed(each.firstSequence, each.lastSequence, error);
    }
    this.#continue();
  }

  #continue(): void {
    this.#syncing = false;
    if (this.#batches.length === 0) {
      this.#syncNext();
      return;
    }
    if (this.#idle.length > 0) {
      this.#syncNext();
      return;
    }
    this.#schedule();
  }
}

function closeStretch(batch: Batch): void {
  if (batch.openSlab === undefined || batch.openEnd === batch.openStart) return;
  batch.chunks.push(batch.openSlab.subarray(batch.openStart, batch.openEnd));
  batch.openSlab = undefined;
}
