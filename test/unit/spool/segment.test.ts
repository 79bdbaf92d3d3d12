import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SpoolWriteError } from '../../../src/spool/errors.js';
import { AckLedger } from '../../../src/spool/ledger.js';
import {
  createSegment,
  deleteSegmentFiles,
  findSegment,
  ledgerFileName,
  parseSpoolFileName,
  Segment,
  segmentFileName,
} from '../../../src/spool/segment.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function directory(): string {
  const made = mkdtempSync(join(tmpdir(), 'kpl-segment-'));
  directories.push(made);
  return made;
}

function segment(base: number, endSequence: number): Segment {
  return new Segment(base, `/x/${base}`, AckLedger.load(`/nonexistent/${base}.acks`), 0, endSequence);
}

describe('segment files', () => {
  it('are named by their base sequence, so that names sort as records do', () => {
    expect(segmentFileName(42)).toBe('0000000000000042.seg');
    expect(ledgerFileName(42)).toBe('0000000000000042.acks');
    expect(parseSpoolFileName('0000000000000042.seg')).toEqual({ base: 42, kind: 'segment' });
    expect(parseSpoolFileName('0000000000000042.acks')).toEqual({ base: 42, kind: 'ledger' });
    expect(parseSpoolFileName('LOCK')).toBeUndefined();
  });

  it('are created empty and open for appending, and deleted with their ledger', async () => {
    const where = directory();
    const created = createSegment(where, 7);
    expect(created).toMatchObject({ base: 7, endSequence: 7, size: 0, sealed: false });
    expect(created.fd).toBeGreaterThanOrEqual(0);
    expect(statSync(created.path).size).toBe(0);
    created.ledger.markDone(0);
    created.ledger.writePendingSync();
    created.ledger.close();
    deleteSegmentFiles(created);
    await vi.waitFor(() => expect(existsSync(created.path) || existsSync(created.ledger.path)).toBe(false));
  });

  it('refuses a directory that is not there with SpoolWriteError naming the file', () => {
    expect(() => createSegment(join(directory(), 'missing'), 0)).toThrow(SpoolWriteError);
  });
});

describe('Segment', () => {
  it('is finished once sealed, synced whole and every record is done', () => {
    const held = segment(10, 12);
    held.size = 100;
    held.syncedSize = 100;
    expect(held.undone).toBe(2);
    held.ledger.markDone(0);
    held.ledger.markDone(1);
    expect(held.undone).toBe(0);
    expect(held.finished).toBe(true);
    held.syncedSize = 90;
    expect(held.finished).toBe(false);
    held.syncedSize = 100;
    held.sealed = false;
    expect(held.finished).toBe(false);
  });

  it('is found by binary search for any sequence it holds', () => {
    const segments = [segment(0, 10), segment(10, 25), segment(25, 26), segment(30, 40)];
    expect(findSegment(segments, 0)?.base).toBe(0);
    expect(findSegment(segments, 24)?.base).toBe(10);
    expect(findSegment(segments, 25)?.base).toBe(25);
    expect(findSegment(segments, 39)?.base).toBe(30);
    expect(findSegment(segments, 27)).toBeUndefined();
    expect(findSegment(segments, 40)).toBeUndefined();
    expect(findSegment([], 0)).toBeUndefined();
  });
});
