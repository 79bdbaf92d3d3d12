import { closeSync, fsyncSync, openSync, unlink } from 'node:fs';
import { join } from 'node:path';
import { SpoolWriteError } from './errors.js';
import { AckLedger } from './ledger.js';
import type { ReadableSegment } from './reader.js';
import type { WriteTarget } from './writer.js';

/*
 * Segment files are named by the sequence number of their first record, as Kafka names its log
 * segments by base offset, so that sorting the names sorts the records and a segment's record count
 * is the next segment's base minus its own.
 */

const SEGMENT_SUFFIX = '.seg';
const LEDGER_SUFFIX = '.acks';
const DIGITS = 16;

/** The data file of the segment starting at `base`. */
export function segmentFileName(base: number): string {
  return `${String(base).padStart(DIGITS, '0')}${SEGMENT_SUFFIX}`;
}

/** The acknowledgement ledger of the segment starting at `base`. */
export function ledgerFileName(base: number): string {
  return `${String(base).padStart(DIGITS, '0')}${LEDGER_SUFFIX}`;
}

/** The base sequence of a segment or ledger file's name, or undefined for any other file. */
export function parseSpoolFileName(name: string): { base: number; kind: 'segment' | 'ledger' } | undefined {
  const match = /^(\d{16})\.(seg|acks)$/.exec(name);
  if (match === null) return undefined;
  return { base: Number(match[1]), kind: match[2] === 'seg' ? 'segment' : 'ledger' };
}

/** One segment file and its ledger. */
export class Segment implements WriteTarget, ReadableSegment {
  fd = -1;
  sealed = true;
  syncedSize: number;
  /** The sequence after the last record appended; for a sealed segment, the next one's base. */
  endSequence: number;
  syncedEndSequence: number;

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

  /** Records in it not yet done. */
  get undone(): number {
    return this.endSequence - this.base - this.ledger.doneCount;
  }

  /** Done when sealed, synced whole, and every record in it is done. */
  get finished(): boolean {
    return this.complete && this.undone <= 0;
  }
}

/**
 * Creates the empty segment file starting at `base` in `directory`, open for appending, and syncs the
 * directory so that the new name survives a crash as well as the records written to it.
 * @throws SpoolWriteError naming the file when it cannot be created.
 */
export function createSegment(directory: string, base: number): Segment {
  const path = join(directory, segmentFileName(base));
  const ledger = AckLedger.load(join(directory, ledgerFileName(base)));
  const segment = new Segment(base, path, ledger, 0, base);
  try {
    segment.fd = openSync(path, 'w+', 0o644);
    const directoryFd = openSync(directory, 'r');
    try {
      fsyncSync(directoryFd);
    } finally {
      closeSync(directoryFd);
    }
  } catch (error) {
    throw new SpoolWriteError(path, error as NodeJS.ErrnoException, 'create');
  }
  segment.sealed = false;
  return segment;
}

/** Deletes a segment's files in the background. */
export function deleteSegmentFiles(segment: Segment): void {
  // The data first: a ledger without its segment is removed at the next open; the reverse would resend the segment.
  unlink(segment.path, () => unlink(segment.ledger.path, () => undefined));
}

/** The segment of `segments` (sorted by base) that holds `sequence`, by binary search. */
export function findSegment(segments: readonly Segment[], sequence: number): Segment | undefined {
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
