import { closeSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { frameBytes, writeFrame } from '../../../src/spool/frame.js';
import { AckLedger } from '../../../src/spool/ledger.js';
import { recoverSegments, recoverTail } from '../../../src/spool/recovery.js';
import { ledgerFileName, type Segment, segmentFileName } from '../../../src/spool/segment.js';

const directories: string[] = [];
const opened: Segment[] = [];
afterEach(() => {
  for (const segment of opened.splice(0)) if (segment.fd >= 0) closeSync(segment.fd);
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function directory(): string {
  const made = mkdtempSync(join(tmpdir(), 'kpl-recover-'));
  directories.push(made);
  return made;
}

/** Writes a segment file of frames `base`..`end - 1`, each appended at 1000 + its sequence. */
function writeSegment(where: string, base: number, end: number, tornBytes = 0): string {
  const payload = Buffer.from('payload');
  const frames = Buffer.alloc((end - base) * frameBytes(payload.length) + tornBytes, 0xee);
  let offset = 0;
  for (let sequence = base; sequence < end; sequence++) offset = writeFrame(frames, offset, sequence, 1000 + sequence, payload);
  const path = join(where, segmentFileName(base));
  writeFileSync(path, frames);
  return path;
}

function acknowledge(where: string, base: number, indexes: number[]): void {
  const ledger = AckLedger.load(join(where, ledgerFileName(base)));
  for (const index of indexes) ledger.markDone(index);
  ledger.writePendingSync();
  ledger.close();
}

function recover(where: string): ReturnType<typeof recoverSegments> {
  const recovered = recoverSegments(where, undefined);
  opened.push(...recovered.segments);
  return recovered;
}

describe('recoverTail', () => {
  it('cuts a torn frame off the end and gives the next sequence', () => {
    const where = directory();
    const path = writeSegment(where, 5, 8, 10);
    expect(recoverTail(path, 5)).toEqual({ size: 3 * frameBytes(7), nextSequence: 8, truncatedBytes: 10 });
    expect(statSync(path).size).toBe(3 * frameBytes(7));
  });
});

describe('recoverSegments', () => {
  it('creates the first segment in an empty directory', () => {
    const recovered = recover(directory());
    expect(recovered).toMatchObject({ records: 0, sealedBytes: 0, truncatedBytes: 0 });
    expect(recovered.segments.map((segment) => [segment.base, segment.sealed])).toEqual([[0, false]]);
  });

  it('keeps the segments with records not done, the last one open for appending, and counts them', () => {
    const where = directory();
    writeSegment(where, 0, 4);
    writeSegment(where, 4, 8);
    writeSegment(where, 8, 10, 3);
    acknowledge(where, 4, [0, 2]);
    const recovered = recover(where);
    expect(recovered.records).toBe(8);
    expect(recovered.truncatedBytes).toBe(3);
    expect(recovered.sealedBytes).toBe(8 * frameBytes(7));
    expect(recovered.segments.map((segment) => [segment.base, segment.endSequence, segment.sealed])).toEqual([
      [0, 4, true],
      [4, 8, true],
      [8, 10, false],
    ]);
    expect(recovered.held).toEqual([
      { sequence: 0, appendedAt: 1000 },
      { sequence: 5, appendedAt: 1005 },
      { sequence: 8, appendedAt: 1008 },
    ]);
  });

  it('deletes a segment whose records are all done, and a ledger without its segment', async () => {
    const where = directory();
    writeSegment(where, 0, 2);
    writeSegment(where, 2, 4);
    acknowledge(where, 0, [0, 1]);
    acknowledge(where, 9, [0]);
    const recovered = recover(where);
    expect(recovered.records).toBe(2);
    expect(recovered.segments.map((segment) => segment.base)).toEqual([2]);
    expect(existsSync(join(where, ledgerFileName(9)))).toBe(false);
    await vi.waitFor(() => expect(readdirSync(where).sort()).toEqual([segmentFileName(2)]));
  });
});
