import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Where one followed file stands: the offset just past the last line whose record is stored. */
export interface CheckpointEntry {
  /** The flow that follows the file. */
  readonly flow: string;
  readonly dev: number;
  readonly ino: number;
  /** The file's name when last seen; for people reading the checkpoint. */
  readonly path: string;
  /** The file's first bytes (up to 1 KiB), base64: an inode is reused, its content's start is not. */
  readonly head: string;
  readonly offset: number;
  /** When the file last matched a pattern or grew, in ms since the epoch; entries past their TTL are pruned. */
  readonly seenAt: number;
}

/** A checkpoint file that cannot be read as one. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

const VERSION = 1;

/** The entries of the checkpoint file, or undefined when there is none yet. */
export async function loadCheckpoint(file: string): Promise<CheckpointEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`checkpoint ${file} is not JSON (${(error as Error).message}); move it away to start afresh`);
  }
  const files = (parsed as { version?: unknown; files?: unknown }).files;
  if ((parsed as { version?: unknown }).version !== VERSION || !Array.isArray(files) || !files.every(isEntry)) {
    throw new CheckpointError(`checkpoint ${file} is not a version ${VERSION} kpl tail checkpoint; move it away to start afresh`);
  }
  return files;
}

function isEntry(value: unknown): value is CheckpointEntry {
  const entry = value as Partial<Record<keyof CheckpointEntry, unknown>>;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof entry.flow === 'string' &&
    typeof entry.path === 'string' &&
    typeof entry.head === 'string' &&
    Number.isSafeInteger(entry.dev) &&
    Number.isSafeInteger(entry.ino) &&
    Number.isSafeInteger(entry.offset) &&
    (entry.offset as number) >= 0 &&
    Number.isFinite(entry.seenAt)
  );
}

/**
 * Replaces the checkpoint file atomically: the entries go to a temporary file beside it, which is
 * synced and renamed over it, and the directory is synced so that the rename survives a crash. A
 * reader (or a restart after SIGKILL) sees the old checkpoint or the new one, never a mix.
 */
export async function saveCheckpoint(file: string, entries: readonly CheckpointEntry[]): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o644);
  try {
    await handle.writeFile(`${JSON.stringify({ version: VERSION, files: entries })}\n`);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, file);
  const directory = await open(path.dirname(file), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** The entries seen within `ttlMs` before `now`: a file gone for longer is forgotten. */
export function pruneEntries(entries: readonly CheckpointEntry[], now: number, ttlMs: number): CheckpointEntry[] {
  return entries.filter((entry) => now - entry.seenAt <= ttlMs);
}
