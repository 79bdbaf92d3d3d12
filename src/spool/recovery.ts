import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../config.js';
import { SpoolWriteError } from './errors.js';
import { emptyFrame, findNextFrame, FrameStatus, readFrame } from './frame.js';
import { AckLedger } from './ledger.js';
import { createSegment, deleteSegmentFiles, ledgerFileName, parseSpoolFileName, Segment, segmentFileName } from './segment.js';

/** What recovery found at the end of the last segment. */
export interface TailRecovery {
  /** Bytes of whole, valid frames (and damaged stretches between them) kept. */
  readonly size: number;
  /** The sequence number the next appended record gets. */
  readonly nextSequence: number;
  /** Bytes cut off the end: a frame torn by a crash during its write, or damage with nothing valid after it. */
  readonly truncatedBytes: number;
}

/**
 * Recovers the segment that was being appended to when the last process stopped, as Kafka recovers
 * its active segment: every frame is checked, and the file is cut after the last valid one. A damaged
 * stretch between valid frames stays; the reader skips and counts it.
 */
export function recoverTail(path: string, base: number): TailRecovery {
  const bytes = readFileSync(path);
  const frame = emptyFrame();
  let offset = 0;
  let validEnd = 0;
  let nextSequence = base;
  while (offset < bytes.length) {
    const status = readFrame(bytes, offset, bytes.length, frame);
    if (status === FrameStatus.Valid && frame.sequence >= nextSequence) {
      nextSequence = frame.sequence + 1;
      offset = frame.end;
      validEnd = offset;
      continue;
    }
    const next = findNextFrame(bytes, offset, bytes.length, nextSequence, Number.MAX_SAFE_INTEGER, frame);
    if (next < 0) break;
    offset = next;
  }
  if (validEnd < bytes.length) truncateSync(path, validEnd);
  return { size: validEnd, nextSequence, truncatedBytes: bytes.length - validEnd };
}

/** The segments that a spool directory holds at open. */
export interface RecoveredSegments {
  /** The segments with records not yet done, by base, the active one (open for appending) last. */
  readonly segments: Segment[];
  /** Records not yet done. */
  readonly records: number;
  /** Bytes of the segments before the active one. */
  readonly sealedBytes: number;
  /** Bytes cut off the last segment's end: a torn write. */
  readonly truncatedBytes: number;
  /** The first held record of each kept segment that holds one, in order: where the oldest record's age comes from. */
  readonly held: readonly HeldRecord[];
}

/**
 * Loads the spool files of `directory`: every segment with its ledger, the last one recovered and
 * opened for appending (or a new one when there is none). Segments whose records are all done and
 * ledgers without their segment are deleted.
 * @throws SpoolWriteError when the last segment cannot be opened for writing.
 */
export function recoverSegments(directory: string, logger: Logger | undefined): RecoveredSegments {
  const bases = new Set<number>();
  const ledgers = new Set<number>();
  for (const name of readdirSync(directory)) {
    const parsed = parseSpoolFileName(name);
    if (parsed === undefined) continue;
    (parsed.kind === 'segment' ? bases : ledgers).add(parsed.base);
  }
  for (const base of ledgers) if (!bases.has(base)) unlinkQuietly(join(directory, ledgerFileName(base)));
  const sorted = [...bases].sort((a, b) => a - b);
  const segments: Segment[] = [];
  let truncatedBytes = 0;
  for (let i = 0; i < sorted.length; i++) {
    const base = sorted[i] as number;
    const path = join(directory, segmentFileName(base));
    const next = sorted[i + 1];
    let size: number;
    let endSequence: number;
    if (next === undefined) {
      const tail = recoverTail(path, base);
      size = tail.size;
      endSequence = tail.nextSequence;
      if (tail.truncatedBytes > 0) {
        truncatedBytes += tail.truncatedBytes;
        logger?.warn('spool: cut a torn frame off the last segment', { path, bytes: tail.truncatedBytes });
      }
    } else {
      size = statSync(path).size;
      endSequence = next;
    }
    const ledger = AckLedger.load(join(directory, ledgerFileName(base)), endSequence - base);
    const segment = new Segment(base, path, ledger, size, endSequence);
    segments.push(segment);
  }
  const active = openActive(directory, segments);
  const kept: Segment[] = [];
  let records = 0;
  let sealedBytes = 0;
  const held: HeldRecord[] = [];
  for (const segment of segments) {
    if (segment !== active && segment.undone <= 0) {
      deleteSegmentFiles(segment);
      continue;
    }
    kept.push(segment);
    const first = segment.undone > 0 ? firstHeldRecord(segment) : undefined;
    if (first !== undefined) held.push(first);
    records += segment.undone;
    if (segment !== active) sealedBytes += segment.size;
  }
  if (records > 0) logger?.info('spool: recovered records left by an earlier process', { directory, records, segments: kept.length });
  return { segments: kept, records, sealedBytes, truncatedBytes, held };
}

/** Opens the last segment for appending, or creates the first one; pushed onto `segments` when new. */
function openActive(directory: string, segments: Segment[]): Segment {
  const last = segments[segments.length - 1];
  if (last === undefined) {
    const created = createSegment(directory, 0);
    segments.push(created);
    return created;
  }
  try {
    last.fd = openSync(last.path, 'r+');
  } catch (error) {
    throw new SpoolWriteError(last.path, error as NodeJS.ErrnoException, 'open');
  }
  last.sealed = false;
  return last;
}

/** How much of a segment's start is read first to find its first held record. */
const HEAD_BYTES = 64 * 1024;

/** A record not yet done, found at open. */
export interface HeldRecord {
  readonly sequence: number;
  /** When it was appended, ms since the epoch. */
  readonly appendedAt: number;
}

/**
 * The first record of `segment` not yet done, read from its file: from its head when its first
 * record is held (the common case: acknowledgements come roughly in order), else from the whole file.
 * Undefined when no held record's frame is valid.
 */
export function firstHeldRecord(segment: Segment): HeldRecord | undefined {
  if (!segment.ledger.isDone(0)) {
    const held = firstHeldIn(segment, readHead(segment.path, Math.min(HEAD_BYTES, segment.size)));
    if (held !== undefined) return held;
  }
  return firstHeldIn(segment, readFileSync(segment.path));
}

function firstHeldIn(segment: Segment, bytes: Buffer): HeldRecord | undefined {
  const frame = emptyFrame();
  let offset = 0;
  while (offset >= 0 && offset < bytes.length) {
    if (readFrame(bytes, offset, bytes.length, frame) !== FrameStatus.Valid) {
      offset = findNextFrame(bytes, offset, bytes.length, segment.base, segment.endSequence - 1, frame);
      continue;
    }
    if (!segment.ledger.isDone(frame.sequence - segment.base)) return { sequence: frame.sequence, appendedAt: frame.appendedAt };
    offset = frame.end;
  }
  return undefined;
}

function readHead(path: string, length: number): Buffer {
  const head = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    return head.subarray(0, readSync(fd, head, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to remove.
  }
}
