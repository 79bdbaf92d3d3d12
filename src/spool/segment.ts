import { readFileSync, truncateSync } from 'node:fs';
import { emptyFrame, findNextFrame, FrameStatus, readFrame } from './frame.js';

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
