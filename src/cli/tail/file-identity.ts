/**
 * What tells one file's content from another's when inodes are reused and files are copied: its
 * first bytes, and a digest of everything read from its start.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { CONTENT_DIGEST, type FileCursor } from './file-cursor.js';

/** Bytes read at a time while digesting a file. */
const DIGEST_CHUNK_BYTES = 256 * 1024;

/** The file's first `length` bytes, fewer when it is shorter. */
export async function readHead(handle: FileHandle, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, 0);
  return buffer.subarray(0, bytesRead);
}

/** True when the file begins with `head` (always, for an empty head). */
export async function startsWith(handle: FileHandle, head: Buffer): Promise<boolean> {
  if (head.length === 0) return true;
  return (await readHead(handle, head.length)).equals(head);
}

/** The {@link CONTENT_DIGEST} of the file's bytes [0, length), as a FileCursor digests what it reads. */
export async function digestOf(handle: FileHandle, length: number): Promise<Buffer> {
  const digest = createHash(CONTENT_DIGEST);
  const buffer = Buffer.allocUnsafe(DIGEST_CHUNK_BYTES);
  for (let position = 0; position < length;) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - position), position);
    if (bytesRead === 0) break;
    digest.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return digest.digest();
}

/**
 * The source (a followed file, or truncated content) that a file of `size` bytes beginning with
 * `head` is a copy of, up to where that source has been read: the same first bytes, at least as
 * long, and, for content read from its start, the same digest of every byte read. 'maybe' when it
 * begins alike but is shorter (a copy still being written, or a file that only begins alike).
 */
export async function copySource<Source extends { readonly cursor: FileCursor | undefined }>(
  handle: FileHandle,
  head: Buffer,
  size: number,
  sources: Iterable<Source>,
): Promise<Source | 'maybe' | undefined> {
  let maybe = false;
  for (const source of sources) {
    const cursor = source.cursor;
    if (cursor === undefined || cursor.readOffset === 0) continue;
    const known = cursor.head;
    const compared = Math.min(known.length, head.length);
    if (!head.subarray(0, compared).equals(known.subarray(0, compared))) continue;
    if (size < cursor.readOffset) {
      maybe = true;
      continue;
    }
    const digest = cursor.digest();
    if (digest === undefined || (await digestOf(handle, cursor.readOffset)).equals(digest)) return source;
  }
  return maybe ? 'maybe' : undefined;
}
