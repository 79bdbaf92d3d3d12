import { open, type FileHandle } from 'node:fs/promises';
import { emptyFrame, FRAME_HEADER_BYTES, findNextFrame, FrameStatus, MAX_FRAME_PAYLOAD_BYTES, readFrame } from './frame.js';

/** A segment as the reader sees it. */
export interface ReadableSegment {
  readonly base: number;
  readonly path: string;
  /** Bytes that may be read: the whole file once sealed, else what is synced. */
  readonly readableSize: number;
  /** The sequence number after the last record within readableSize. */
  readonly readableEndSequence: number;
  /** No record will be appended to it any more, and all of it is synced: the reader may move past its end. */
  readonly complete: boolean;
}

/** What the reader asks of the spool. */
export interface ReaderSource {
  /** The first segment whose base is at least `base`, or undefined. */
  segmentFrom(base: number): ReadableSegment | undefined;
  /** Whether a record is already done (acknowledged before, e.g. by an earlier process). */
  isDone(sequence: number): boolean;
  /** Records [from, to) are missing from the file: a damaged stretch was skipped. */
  lost(from: number, to: number): void;
}

/** A record read back, not yet decoded. */
export interface SpoolEntry {
  readonly sequence: number;
  /** When it was appended, ms since the epoch. */
  readonly appendedAt: number;
  /** A view of the bytes read; it stays valid (each read has a buffer of its own). */
  readonly payload: Buffer;
}

const CHUNK_BYTES = 256 * 1024;

/**
 * Reads the spool's records in order, a chunk at a time, from a cursor that only moves forward.
 * Records already done are passed over; a damaged stretch is stepped over to the next valid frame
 * and reported as lost, never thrown.
 */
export class SpoolReader {
  readonly #source: ReaderSource;
  #base: number;
  #offset = 0;
  #expected: number;
  #file: FileHandle | undefined;
  #filePath: string | undefined;
  /** The last chunk read, and where in #filePath it starts: a read that stopped inside it goes on from memory. */
  #chunk: Buffer = Buffer.alloc(0);
  #chunkOffset = 0;

  constructor(source: ReaderSource, firstBase: number) {
    this.#source = source;
    this.#base = firstBase;
    this.#expected = firstBase;
  }

  /** The sequence number the reader expects next: every record before it was read or passed over. */
  get position(): number {
    return this.#expected;
  }

  /** Reads up to `maxRecords` records of up to `maxBytes` payload bytes in all (at least one record, if any is there). */
  async read(maxRecords: number, maxBytes: number): Promise<SpoolEntry[]> {
    const entries: SpoolEntry[] = [];
    let bytes = 0;
    let wanted = CHUNK_BYTES;
    /** The next read must bring the whole first frame: left-over bytes from the last read did not hold it. */
    let whole = false;
    const frame = emptyFrame();
    let full = false;
    while (entries.length < maxRecords && bytes < maxBytes && !full) {
      const segment = this.#source.segmentFrom(this.#base);
      if (segment === undefined) break;
      if (segment.base !== this.#base) await this.#moveTo(segment.base);
      const limit = segment.readableSize;
      if (this.#offset >= limit) {
        if (!segment.complete) break;
        this.#finishSegment(segment.readableEndSequence);
        continue;
      }
      const length = Math.min(Math.max(wanted, CHUNK_BYTES), limit - this.#offset);
      const chunk = await this.#readAt(segment.path, this.#offset, length, whole ? Math.min(wanted, length) : CHUNK_BYTES / 4);
      wanted = CHUNK_BYTES;
      whole = false;
      let position = 0;
      let damaged = false;
      while (position < chunk.length && entries.length < maxRecords && bytes < maxBytes) {
        const status = readFrame(chunk, position, chunk.length, frame);
        if (status === FrameStatus.Valid) {
          // The byte bound holds, except that a first record always comes back whatever its size.
          if (entries.length > 0 && bytes + frame.payload.length > maxBytes) {
            full = true;
            break;
          }
          position = frame.end;
          if (frame.sequence < this.#expected) continue;
          if (frame.sequence > this.#expected) this.#source.lost(this.#expected, frame.sequence);
          this.#expected = frame.sequence + 1;
          if (this.#source.isDone(frame.sequence)) continue;
          entries.push({ sequence: frame.sequence, appendedAt: frame.appendedAt, payload: frame.payload });
          bytes += frame.payload.length;
          continue;
        }
        if (status === FrameStatus.Incomplete && this.#offset + chunk.length < limit) {
          if (position === 0) {
            wanted = neededBytes(chunk, limit - this.#offset);
            whole = true;
          }
          break;
        }
        damaged = true;
        break;
      }
      this.#offset += position;
      if (damaged) await this.#skipDamage(segment);
    }
    return entries;
  }

  /** Closes the open segment file. */
  async close(): Promise<void> {
    await this.#file?.close();
    this.#file = undefined;
    this.#filePath = undefined;
    this.#chunk = Buffer.alloc(0);
  }

  async #skipDamage(segment: ReadableSegment): Promise<void> {
    const rest = await this.#readAt(segment.path, this.#offset, segment.readableSize - this.#offset);
    const frame = emptyFrame();
    const next = findNextFrame(rest, 0, rest.length, this.#expected, segment.readableEndSequence - 1, frame);
    if (next >= 0) {
      this.#offset += next;
      return;
    }
    this.#offset = segment.readableSize;
    if (segment.readableEndSequence > this.#expected) this.#source.lost(this.#expected, segment.readableEndSequence);
    this.#expected = Math.max(this.#expected, segment.readableEndSequence);
  }

  #finishSegment(endSequence: number): void {
    if (endSequence > this.#expected) this.#source.lost(this.#expected, endSequence);
    this.#expected = Math.max(this.#expected, endSequence);
    this.#base = endSequence;
    this.#offset = 0;
  }

  async #moveTo(base: number): Promise<void> {
    this.#base = base;
    this.#offset = 0;
    this.#expected = Math.max(this.#expected, base);
    await this.close();
  }

  /** Reads `length` bytes at `offset`, or fewer (but at least `minimum`) when they are left over from the last read. */
  async #readAt(path: string, offset: number, length: number, minimum = length): Promise<Buffer> {
    if (this.#filePath !== path) {
      await this.close();
      this.#file = await open(path, 'r');
      this.#filePath = path;
    }
    // What was read stays valid: only synced bytes are read, and those never change.
    const cached = this.#chunk;
    const start = offset - this.#chunkOffset;
    if (start >= 0 && start < cached.length && cached.length - start >= Math.min(length, minimum)) {
      return cached.subarray(start, start + Math.min(length, cached.length - start));
    }
    const chunk = Buffer.allocUnsafe(length);
    const { bytesRead } = await (this.#file as FileHandle).read(chunk, 0, length, offset);
    this.#chunk = bytesRead === length ? chunk : chunk.subarray(0, bytesRead);
    this.#chunkOffset = offset;
    return this.#chunk;
  }
}

/** Bytes needed to read the frame at the start of `chunk` whole, within `available`. */
function neededBytes(chunk: Buffer, available: number): number {
  if (chunk.length < FRAME_HEADER_BYTES) return Math.min(available, FRAME_HEADER_BYTES);
  const length = chunk.readUInt32LE(0);
  return Math.min(available, FRAME_HEADER_BYTES + Math.min(length, MAX_FRAME_PAYLOAD_BYTES));
}
