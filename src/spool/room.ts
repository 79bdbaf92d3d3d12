import { BufferFullError } from '../records.js';

/** After ENOSPC, how long appends are refused before the disk is tried again, if no segment was freed sooner. */
export const DISK_FULL_RETRY_MS = 1000;

/**
 * Waiting for room in the spool: appends that found it at maxBytes, or the disk full (ENOSPC), wait
 * here and check again whenever a segment is freed. A full disk is also tried again after
 * {@link DISK_FULL_RETRY_MS}, since space may come back from elsewhere on the disk.
 */
export class SpoolRoom {
  readonly #retryMs: number;
  #waiters: (() => void)[] = [];
  #diskFull = false;
  #diskFullTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(retryMs = DISK_FULL_RETRY_MS) {
    this.#retryMs = retryMs;
  }

  /** The file system said ENOSPC, and no segment was freed nor the retry time passed since. */
  get diskFull(): boolean {
    return this.#diskFull;
  }

  /** Resolves once `fits()` says yes (at once if it does now) or the spool closes. */
  waitFor(fits: () => boolean): Promise<void> {
    if (this.#closed || fits()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#closed || fits()) resolve();
        else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }

  /** A segment was deleted: the disk has room again, and waiters check. */
  freed(): void {
    this.#diskFull = false;
    this.#wake();
  }

  /** A write failed with ENOSPC: no room until a segment is freed or the retry time passes. */
  diskFilled(): void {
    if (this.#diskFull) return;
    this.#diskFull = true;
    this.#diskFullTimer = setTimeout(() => this.freed(), this.#retryMs);
    this.#diskFullTimer.unref();
  }

  /** Stops the retry timer and resolves every waiter. */
  close(): void {
    this.#closed = true;
    if (this.#diskFullTimer !== undefined) clearTimeout(this.#diskFullTimer);
    this.#wake();
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const check of waiters) check();
  }
}

/** The error of an append refused at maxBytes or on a full disk, field `spool.maxBytes`. */
export function spoolFullError(maxBytes: number, bytes: number, directory: string, diskFull: boolean): BufferFullError {
  const error = new BufferFullError('spool.maxBytes', maxBytes, bytes);
  error.message = diskFull
    ? `the disk under the spool in ${directory} is full (ENOSPC) at ${bytes.toLocaleString('en-US')} bytes of spool, ` +
      `below spool.maxBytes of ${maxBytes.toLocaleString('en-US')}; enqueue() waits for room instead of failing`
    : `spool.maxBytes reached: the spool in ${directory} holds ${bytes.toLocaleString('en-US')} bytes, ` +
      `the limit is ${maxBytes.toLocaleString('en-US')}; enqueue() waits for room instead of failing`;
  return error;
}
