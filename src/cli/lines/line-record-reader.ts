/**
 * A minimal stand-in for the record reader that the "lines" work builds (issue 14 item 3): plain
 * lines, a key from a JSON field, a fixed or random key, header lines to skip, multi-line records
 * and long lines. `kpl tail` is written against this interface; the full module replaces this file.
 */
import { randomBytes } from 'node:crypto';

/** How one file's lines become records. */
export interface LineRecordOptions {
  format: 'lines' | 'json' | 'csv' | 'apache' | 'syslog';
  /** CSV column names. */
  fields?: readonly string[];
  /** The partition key comes from this field of the converted record. */
  keyField?: string;
  /** One fixed partition key; with neither, a random one. */
  key?: string;
  /** A line matching it starts a record; the lines that follow up to the next match are joined to it. */
  multilineStart?: RegExp;
  /** Lines at the start of the file that make no record. */
  skipHeaderLines?: number;
  /** Bytes a record holds at most. */
  maxLineBytes?: number;
  /** Appended to a truncated line. */
  truncatedTerminator?: string;
  /** What becomes of a line longer than maxLineBytes. */
  longLines?: 'split' | 'truncate';
}

/** A record made of lines. */
export interface LineRecord {
  partitionKey: string;
  data: Buffer;
}

type Emit = (record: LineRecord, endOffset: number) => void;

const DEFAULT_MAX_LINE_BYTES = 1024 * 1024 - 256;
const NEWLINE = 0x0a;

/** Turns one file's bytes into records; one instance per file (it keeps header and multi-line state). */
export class LineRecordReader {
  readonly #options: LineRecordOptions;
  readonly #keyPath: readonly string[] | undefined;
  #partial: Buffer = Buffer.alloc(0);
  #consumed = 0;
  #headerLinesLeft: number;
  #pending: Buffer[] = [];
  #pendingEnd = 0;
  #linesRead = 0;
  #linesTruncated = 0;

  constructor(options: LineRecordOptions) {
    this.#options = options;
    this.#keyPath = options.keyField?.split('.');
    this.#headerLinesLeft = options.skipHeaderLines ?? 0;
  }

  /** Lines read so far, header lines included. */
  get linesRead(): number {
    return this.#linesRead;
  }

  /** Lines cut to maxLineBytes or split. */
  get linesTruncated(): number {
    return this.#linesTruncated;
  }

  /** Feeds the next bytes of the file; calls emit for each complete record with the offset (from the first byte pushed) just past its last line. */
  push(chunk: Buffer, emit: Emit): void {
    let buffer = this.#partial.length === 0 ? chunk : Buffer.concat([this.#partial, chunk]);
    let start = 0;
    for (let newline = buffer.indexOf(NEWLINE, start); newline >= 0; newline = buffer.indexOf(NEWLINE, start)) {
      const end = newline > start && buffer[newline - 1] === 0x0d ? newline - 1 : newline;
      this.#consumed += newline + 1 - start;
      this.#line(buffer.subarray(start, end), emit);
      start = newline + 1;
    }
    buffer = buffer.subarray(start);
    this.#partial = Buffer.from(buffer);
  }

  /** Emits a pending multi-line record (after idle time, or at the file's end when it is rotated away). */
  flushPending(emit: Emit): void {
    if (this.#pending.length === 0) return;
    const data = Buffer.concat(this.#pending.flatMap((line, i) => (i === 0 ? [line] : [Buffer.from('\n'), line])));
    this.#pending = [];
    this.#emit(data, this.#pendingEnd, emit);
  }

  #line(line: Buffer, emit: Emit): void {
    this.#linesRead++;
    if (this.#headerLinesLeft > 0) {
      this.#headerLinesLeft--;
      return;
    }
    const startPattern = this.#options.multilineStart;
    if (startPattern !== undefined) {
      if (startPattern.test(line.toString('utf8'))) this.flushPending(emit);
      this.#pending.push(Buffer.from(line));
      this.#pendingEnd = this.#consumed;
      return;
    }
    if (line.length === 0) return;
    this.#emit(line, this.#consumed, emit);
  }

  #emit(data: Buffer, endOffset: number, emit: Emit): void {
    const limit = this.#options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (data.length <= limit) {
      emit({ partitionKey: this.#key(data), data: Buffer.from(data) }, endOffset);
      return;
    }
    this.#linesTruncated++;
    if (this.#options.longLines === 'split') {
      for (let offset = 0; offset < data.length; offset += limit) {
        const piece = Buffer.from(data.subarray(offset, offset + limit));
        emit({ partitionKey: this.#key(piece), data: piece }, endOffset);
      }
      return;
    }
    const terminator = Buffer.from(this.#options.truncatedTerminator ?? '');
    const cut = Buffer.concat([data.subarray(0, Math.max(0, limit - terminator.length)), terminator]);
    emit({ partitionKey: this.#key(cut), data: cut }, endOffset);
  }

  #key(data: Buffer): string {
    if (this.#options.key !== undefined) return this.#options.key;
    if (this.#keyPath !== undefined) {
      try {
        let value: unknown = JSON.parse(data.toString('utf8'));
        for (const name of this.#keyPath) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
        if ((typeof value === 'string' && value !== '') || typeof value === 'number') return String(value).slice(0, 256);
      } catch {
        // A line that is not JSON gets a random key, as one without the field does.
      }
    }
    return randomBytes(8).toString('hex');
  }
}
