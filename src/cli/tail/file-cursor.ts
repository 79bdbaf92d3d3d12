import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { LineRecordReader } from '../lines/line-record-reader.js';
import type { LineRecord, LineRecordEmitter, LineRecordOptions } from '../lines/line-record-options.js';
import { AckedPrefix } from './acked-prefix.js';

/** Bytes at the start of a file that tell it from another file with the same inode (inodes are reused). */
export const HEAD_BYTES = 1024;
/**
 * The digest that tells a copy of read content from a file that only begins alike. SHA-256 costs
 * no more than MD5 here (CPUs hash it in hardware) and is not a broken hash. It lives only in
 * memory, never in the checkpoint, so changing it touches no saved state.
 */
export const CONTENT_DIGEST = 'sha256';
/** Bytes read from a file at a time. */
const CHUNK_BYTES = 256 * 1024;

/** Receives each record a cursor makes, with the prefix that its settlement advances. */
export type RecordEmitter = (record: LineRecord, acks: AckedPrefix, endOffset: number) => void;

/**
 * Where the reading of one file's content stands: the bytes read, the record reader's state, the
 * stored prefix, the file's first bytes, and (when read from the start) a digest of everything read. The content, not the
 * inode, owns it: when a file is copied and truncated, the cursor moves to the copy, where the
 * same bytes continue.
 */
export class FileCursor {
  readonly acks: AckedPrefix;
  readonly #reader: LineRecordReader;
  #readOffset: number;
  #head: Buffer;
  /** The {@link CONTENT_DIGEST} of the bytes [0, readOffset), for a cursor that read from the start: with the head, it tells a copy of this content from a file that only begins alike. */
  readonly #digest: Hash | undefined;
  #linesCounted = 0;
  #truncatedCounted = 0;

  private constructor(start: number, head: Buffer, digest: Hash | undefined, options: LineRecordOptions) {
    this.#readOffset = start;
    this.#head = head;
    this.#digest = digest;
    this.acks = new AckedPrefix(start);
    this.#reader = new LineRecordReader({ ...options, startOffset: start });
  }

  /** A cursor at the start of a file. */
  static atStart(options: LineRecordOptions): FileCursor {
    return new FileCursor(0, Buffer.alloc(0), createHash(CONTENT_DIGEST), options);
  }

  /**
   * A cursor at `offset` of the open file (resuming, or at its end): reads its head. The bytes before
   * `offset` are not digested, so that a start does not read every file through; a copy of this
   * content is then told by its head and its length alone.
   */
  static async at(handle: FileHandle, offset: number, options: LineRecordOptions): Promise<FileCursor> {
    const head = Buffer.alloc(Math.min(offset, HEAD_BYTES));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return new FileCursor(offset, head.subarray(0, bytesRead), undefined, options);
  }

  /** Bytes of the file read so far. */
  get readOffset(): number {
    return this.#readOffset;
  }

  /** The file's first bytes as far as read, at most {@link HEAD_BYTES}. */
  get head(): Buffer {
    return this.#head;
  }

  /** The digest of the bytes [0, readOffset); undefined for a cursor that started further on. */
  digest(): Buffer | undefined {
    return this.#digest?.copy().digest();
  }

  /**
   * Reads up to `maxBytes` of the file from where the cursor stands, and emits the records they
   * complete. Resolves with the bytes read: 0 at the end of the file. Each read has a buffer of its
   * own: records are views of it until the producer has sent them.
   */
  async readFrom(handle: FileHandle, maxBytes: number, emit: RecordEmitter): Promise<number> {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#readOffset);
    if (bytesRead === 0) return 0;
    const chunk = buffer.subarray(0, bytesRead);
    if (this.#head.length < HEAD_BYTES && this.#readOffset === this.#head.length) {
      this.#head = Buffer.concat([this.#head, chunk.subarray(0, HEAD_BYTES - this.#head.length)]);
    }
    this.#digest?.update(chunk);
    this.#reader.push(chunk, this.#emitTo(emit));
    this.#readOffset += bytesRead;
    return bytesRead;
  }

  /** Emits the multi-line record still waiting for lines, when the file has gone quiet or away. */
  flushPending(emit: RecordEmitter): void {
    this.#reader.flushPending(this.#emitTo(emit));
  }

  #emitTo(emit: RecordEmitter): LineRecordEmitter {
    return (record, endOffset) => emit(record, this.acks, endOffset);
  }

  /** Lines read and lines truncated since the last call, for counters. */
  takeCounts(): { lines: number; truncated: number } {
    const lines = this.#reader.linesRead - this.#linesCounted;
    const truncated = this.#reader.linesTruncated - this.#truncatedCounted;
    this.#linesCounted = this.#reader.linesRead;
    this.#truncatedCounted = this.#reader.linesTruncated;
    return { lines, truncated };
  }
}
