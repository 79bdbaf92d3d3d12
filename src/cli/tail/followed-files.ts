import type { FileHandle } from 'node:fs/promises';
import type { CheckpointEntry } from './checkpoint-store.js';
import type { FileCursor } from './file-cursor.js';
import type { MatchedFile } from './file-discovery.js';

/** A file a flow follows, known by its device and inode; its name may change (rename). */
export class FollowedFile {
  readonly dev: number;
  readonly ino: number;
  path: string;
  /** Open while it is read; closed when it is quiet or gone, and opened again when it grows. */
  handle: FileHandle | undefined;
  /** Undefined for a copy of a file still followed: it is read only once its original is truncated or gone. */
  cursor: FileCursor | undefined;
  /** The followed file this one is a copy of (copytruncate), until the original's content moves here. */
  shadowOf: FollowedFile | undefined;
  size: number;
  lastGrowthAt: number;
  seenAt: number;
  /** True when a pattern matched it at the last scan. */
  matched = true;
  /** True when the reader's pending multi-line record was sent since the file last grew. */
  pendingFlushed = true;

  constructor(
    found: MatchedFile,
    handle: FileHandle | undefined,
    cursor: FileCursor | undefined,
    shadowOf: FollowedFile | undefined,
    now: number,
  ) {
    this.dev = found.dev;
    this.ino = found.ino;
    this.path = found.path;
    this.handle = handle;
    this.cursor = cursor;
    this.shadowOf = shadowOf;
    this.size = cursor?.readOffset ?? found.size;
    this.lastGrowthAt = now;
    this.seenAt = now;
  }
}

/** The content of a truncated file, read up to the truncation, waiting for its copy to appear. */
export interface OrphanedContent {
  readonly cursor: FileCursor;
  readonly dev: number;
  readonly ino: number;
  readonly path: string;
  readonly since: number;
}

/** The checkpoint entry of a file's content: where its stored prefix ends. */
export function checkpointEntryOf(
  flow: string,
  file: { readonly dev: number; readonly ino: number; readonly path: string },
  cursor: FileCursor,
  seenAt: number,
): CheckpointEntry {
  return { flow, dev: file.dev, ino: file.ino, path: file.path, head: cursor.head.toString('base64'), offset: cursor.acks.offset, seenAt };
}
