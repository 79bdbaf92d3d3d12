import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SpoolLockedError, SpoolWriteError } from './errors.js';

/** The lock file's name inside a spool directory. */
export const LOCK_FILE = 'LOCK';

/** Lock files this process holds: its own pid in a lock file is stale unless it is one of these. */
const held = new Set<string>();

/**
 * Takes the spool directory for this process: creates LOCK holding our pid, exclusively. A lock left
 * by a process that no longer runs is taken over; one held by a live process throws SpoolLockedError.
 * @returns a function that releases the lock.
 */
export function acquireLock(directory: string): () => void {
  const path = resolve(join(directory, LOCK_FILE));
  if (held.has(path)) throw new SpoolLockedError(path, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (error) {
      const cause = error as NodeJS.ErrnoException;
      if (cause.code !== 'EEXIST') throw new SpoolWriteError(path, cause, 'create its lock file');
      const holder = readHolder(path);
      if (holder !== undefined && holder !== process.pid && isAlive(holder)) throw new SpoolLockedError(path, holder);
      removeStale(path);
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    held.add(path);
    return () => {
      held.delete(path);
      removeStale(path);
    };
  }
  throw new SpoolLockedError(path, readHolder(path) ?? -1);
}

function readHolder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeStale(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new SpoolWriteError(path, error as NodeJS.ErrnoException, 'remove its lock file');
  }
}
