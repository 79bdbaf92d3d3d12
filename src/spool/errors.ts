import { KplError } from '../records.js';

/** The spool's directory is held by another live process. */
export class SpoolLockedError extends KplError {
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return typeof instance === 'object' && instance !== null && (instance as { name?: unknown }).name === 'SpoolLockedError';
  }

  /** The lock file. */
  readonly path: string;
  /** The process holding it. */
  readonly pid: number;

  constructor(path: string, pid: number) {
    super(
      `spool directory is in use by process ${pid} (lock file ${path}); one process per spool directory; ` +
        'stop that process or give this one another directory',
      'KPL_SPOOL_LOCKED',
    );
    this.name = 'SpoolLockedError';
    this.path = path;
    this.pid = pid;
  }
}

/** The spool cannot write where it must: a directory it cannot create or write, or a full disk. */
export class SpoolWriteError extends KplError {
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return typeof instance === 'object' && instance !== null && (instance as { name?: unknown }).name === 'SpoolWriteError';
  }

  /** The file or directory that could not be written. */
  readonly path: string;
  /** The file system's error code, e.g. EACCES, EROFS or ENOSPC. */
  readonly errno: string;

  constructor(path: string, cause: NodeJS.ErrnoException, doing: string) {
    const errno = cause.code ?? 'EIO';
    super(
      `spool cannot ${doing} ${path}: ${errno}${errno === 'ENOSPC' ? ' (no space left on the device)' : ''}: ${cause.message}`,
      'KPL_SPOOL_WRITE_FAILED',
      { cause },
    );
    this.name = 'SpoolWriteError';
    this.path = path;
    this.errno = errno;
  }
}
