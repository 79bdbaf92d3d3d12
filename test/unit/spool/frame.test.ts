import { describe, expect, it } from 'vitest';
import { emptyFrame, findNextFrame, FRAME_HEADER_BYTES, frameBytes, FrameStatus, readFrame, writeFrame } from '../../../src/spool/frame.js';

function frames(count: number): { bytes: Buffer; ends: number[] } {
  const payloads = Array.from({ length: count }, (_, i) => Buffer.from(`payload ${i} ${'x'.repeat(i * 7)}`));
  const bytes = Buffer.alloc(payloads.reduce((sum, p) => sum + frameBytes(p.length), 0));
  const ends: number[] = [];
  let offset = 0;
  payloads.forEach((payload, i) => {
    offset = writeFrame(bytes, offset, 100 + i, 1_700_000_000_000 + i, payload);
    ends.push(offset);
  });
  return { bytes, ends };
}

describe('frame codec', () => {
  it('reads back what it wrote: sequence, time and payload', () => {
    const { bytes, ends } = frames(3);
    const frame = emptyFrame();
    let offset = 0;
    for (let i = 0; i < 3; i++) {
      expect(readFrame(bytes, offset, bytes.length, frame)).toBe(FrameStatus.Valid);
      expect(frame.sequence).toBe(100 + i);
      expect(frame.appendedAt).toBe(1_700_000_000_000 + i);
      expect(frame.payload.toString()).toMatch(new RegExp(`^payload ${i} `));
      expect(frame.end).toBe(ends[i]);
      offset = frame.end;
    }
  });

  it('says Incomplete for every cut inside a frame', () => {
    const { bytes } = frames(1);
    const frame = emptyFrame();
    for (let cut = 0; cut < bytes.length; cut++) expect(readFrame(bytes, 0, cut, frame)).toBe(FrameStatus.Incomplete);
  });

  it('says Corrupt or Incomplete for any single flipped byte, never Valid', () => {
    const { bytes } = frames(1);
    const frame = emptyFrame();
    for (let at = 0; at < bytes.length; at++) {
      const damaged = Buffer.from(bytes);
      damaged[at] = (damaged[at] as number) ^ 0x5a;
      expect(readFrame(damaged, 0, damaged.length, frame)).not.toBe(FrameStatus.Valid);
    }
  });

  it('finds the next valid frame after damage', () => {
    const { bytes, ends } = frames(3);
    const damaged = Buffer.from(bytes);
    damaged[(ends[0] as number) + 2] = 0xff;
    expect(findNextFrame(damaged, ends[0] as number, damaged.length, 101, 102, emptyFrame())).toBe(ends[1]);
    expect(findNextFrame(damaged, ends[1] as number, damaged.length, 103, 200, emptyFrame())).toBe(-1);
  });

  it('has a 24-byte header', () => {
    expect(FRAME_HEADER_BYTES).toBe(24);
    expect(frameBytes(10)).toBe(34);
  });
});
