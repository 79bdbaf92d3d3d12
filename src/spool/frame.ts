import { crc32 } from 'node:zlib';

/*
 * A frame on disk, little-endian:
 *   u32 CRC-32 | u32 payload length | f64 sequence number | f64 append time (ms since the epoch) | payload
 * The CRC covers everything after it (length, sequence number, time and payload: one contiguous
 * stretch, one checksum call), so that a flipped bit in any of them is caught. The sequence number
 * lets recovery tell which records a damaged stretch held.
 */

/** Bytes before a frame's payload. */
export const FRAME_HEADER_BYTES = 24;
/** Largest payload a frame may carry: a 10 MiB Kinesis record with its key and stream name, and room to spare. */
export const MAX_FRAME_PAYLOAD_BYTES = 16 * 1024 * 1024;

const CRC_OFFSET = 0;
const LENGTH_OFFSET = 4;
const SEQUENCE_OFFSET = 8;
const TIME_OFFSET = 16;

/** Writes one frame holding `payload` into `target` at `offset`; returns the offset after it. */
export function writeFrame(target: Buffer, offset: number, sequence: number, appendedAt: number, payload: Uint8Array): number {
  target.writeUInt32LE(payload.length, offset + LENGTH_OFFSET);
  target.writeDoubleLE(sequence, offset + SEQUENCE_OFFSET);
  target.writeDoubleLE(appendedAt, offset + TIME_OFFSET);
  target.set(payload, offset + FRAME_HEADER_BYTES);
  target.writeUInt32LE(frameChecksum(target, offset, payload.length), offset + CRC_OFFSET);
  return offset + FRAME_HEADER_BYTES + payload.length;
}

/** Bytes a frame of `payloadBytes` takes on disk. */
export function frameBytes(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes;
}

/** What {@link readFrame} found at an offset. */
export const FrameStatus = {
  /** A whole frame whose checksum matches. */
  Valid: 0,
  /** The bytes end before the frame does: read more, or at a file's end, a torn write. */
  Incomplete: 1,
  /** A length beyond the limit or a checksum that does not match. */
  Corrupt: 2,
} as const;
/** One of {@link FrameStatus}. */
export type FrameStatus = (typeof FrameStatus)[keyof typeof FrameStatus];

/** A decoded frame; its payload is a view of the buffer it was read from. */
export interface Frame {
  sequence: number;
  appendedAt: number;
  payload: Buffer;
  /** Offset just past the frame in the buffer it was read from. */
  end: number;
}

/**
 * Reads the frame at `offset` of `source`, looking no further than `limit`. On Valid, fills `out`
 * (reused by the caller, so that reading allocates only the payload's view).
 */
export function readFrame(source: Buffer, offset: number, limit: number, out: Frame): FrameStatus {
  if (limit - offset < FRAME_HEADER_BYTES) return FrameStatus.Incomplete;
  const length = source.readUInt32LE(offset + LENGTH_OFFSET);
  if (length > MAX_FRAME_PAYLOAD_BYTES) return FrameStatus.Corrupt;
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > limit) return FrameStatus.Incomplete;
  if (frameChecksum(source, offset, length) !== source.readUInt32LE(offset + CRC_OFFSET)) return FrameStatus.Corrupt;
  out.sequence = source.readDoubleLE(offset + SEQUENCE_OFFSET);
  out.appendedAt = source.readDoubleLE(offset + TIME_OFFSET);
  out.payload = source.subarray(offset + FRAME_HEADER_BYTES, end);
  out.end = end;
  return FrameStatus.Valid;
}

/**
 * The offset of the first valid frame after `offset` whose sequence number lies in
 * [minSequence, maxSequence], or -1. Used to step over a damaged stretch: the sequence range makes a
 * stray match inside a payload all but impossible on top of the checksum.
 */
export function findNextFrame(source: Buffer, offset: number, limit: number, minSequence: number, maxSequence: number, out: Frame): number {
  for (let candidate = offset + 1; candidate + FRAME_HEADER_BYTES <= limit; candidate++) {
    const sequence = source.readDoubleLE(candidate + SEQUENCE_OFFSET);
    if (!(sequence >= minSequence && sequence <= maxSequence) || !Number.isInteger(sequence)) continue;
    if (readFrame(source, candidate, limit, out) === FrameStatus.Valid) return candidate;
  }
  return -1;
}

/** A Frame to be filled by readFrame. */
export function emptyFrame(): Frame {
  return { sequence: 0, appendedAt: 0, payload: Buffer.alloc(0), end: 0 };
}

function frameChecksum(source: Buffer, offset: number, payloadLength: number): number {
  return crc32(source.subarray(offset + LENGTH_OFFSET, offset + FRAME_HEADER_BYTES + payloadLength));
}
