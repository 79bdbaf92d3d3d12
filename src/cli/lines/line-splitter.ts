import { isContinuation, utf8Cut } from './utf8-cut.js';

/**
 * Receives one line: `bytes[start, end)`, without its `\n` or `\r\n`, and the file offset just
 * past the line's break (for a piece of a split line, just past the piece).
 */
export type LineHandler = (bytes: Buffer, start: number, end: number, endOffset: number) => void;

/** How a {@link LineSplitter} bounds its lines. */
export interface LineSplitterOptions {
  /** Longest line handed on, in bytes: the bytes before its `\n`, a `\r` among them. */
  readonly maxLineBytes: number;
  /** A longer line is cut into pieces of at most maxLineBytes, or its head is kept and the rest dropped. */
  readonly longLines: 'split' | 'truncate';
  /** Appended to a truncated line's head; the two together are at most maxLineBytes. */
  readonly truncatedTerminator: Buffer;
  /** File offset of the first byte pushed. */
  readonly startOffset: number;
}

/**
 * Splits a file's bytes into lines at `\n` without decoding them. A line that lies inside one
 * chunk is handed on as a view of that chunk (no copy); only a line that spans chunks is joined.
 * A partial last line is held until its line break arrives, or until {@link end}.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #split: boolean;
  readonly #terminator: Buffer;
  /** File offset of the next byte pushed. */
  #offset: number;
  /** The held start of a line whose break has not arrived; views of earlier chunks. */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** Truncating: the held head is full and the rest of the line is being dropped. */
  #dropping = false;
  /** Pieces of the current line handed on so far; a split line is counted once, at its first. */
  #splitPieces = 0;
  #linesTooLong = 0;

  constructor(options: LineSplitterOptions) {
    this.#maxLineBytes = options.maxLineBytes;
    this.#split = options.longLines === 'split';
    this.#terminator = options.truncatedTerminator;
    this.#offset = options.startOffset;
  }

  /** Lines longer than maxLineBytes seen so far, split or truncated. */
  get linesTooLong(): number {
    return this.#linesTooLong;
  }

  /** File offset just past the last byte pushed. */
  get offset(): number {
    return this.#offset;
  }

  /**
   * Hands every line that `chunk` completes to `onLine`. The lines may be views of `chunk`, so the
   * caller gives up the chunk: it must not write into it afterwards.
   */
  push(chunk: Buffer, onLine: LineHandler): void {
    const base = this.#offset;
    this.#offset += chunk.length;
    const length = chunk.length;
    const max = this.#maxLineBytes;
    let start = 0;
    while (start < length) {
      const newline = chunk.indexOf(10, start);
      if (newline === -1) {
        this.#hold(chunk, start, length, base, onLine);
        return;
      }
      if (this.#heldBytes === 0 && !this.#dropping && newline - start <= max) {
        onLine(chunk, start, newline > start && chunk[newline - 1] === 13 ? newline - 1 : newline, base + newline + 1);
        start = newline + 1;
        continue;
      }
      this.#hold(chunk, start, newline, base, onLine);
      this.#finishLine(base + newline + 1, onLine);
      start = newline + 1;
    }
  }

  /** The input has ended: hands on a held last line that has no line break. */
  end(onLine: LineHandler): void {
    if (this.#heldBytes > 0 || this.#dropping) this.#finishLine(this.#offset, onLine);
  }

  /** Holds `chunk[start, end)` as part of the current line, handing on pieces of a line that grows too long. */
  #hold(chunk: Buffer, start: number, end: number, base: number, onLine: LineHandler): void {
    if (this.#dropping) return;
    const max = this.#maxLineBytes;
    let from = start;
    while (this.#heldBytes + end - from > max) {
      if (!this.#split) {
        this.#append(chunk.subarray(from, from + max - this.#heldBytes));
        this.#dropping = true;
        return;
      }
      if (this.#splitPieces++ === 0) this.#linesTooLong++;
      // The piece ends at the last character boundary within max bytes of the held bytes and the
      // chunk's next ones, which may lie among the held bytes.
      const held = this.#heldBytes;
      let cut = max;
      while (cut > 0 && max - cut < 3 && isContinuation(cut < held ? this.#heldByte(cut) : (chunk[from + cut - held] as number))) cut--;
      if (cut === 0 || isContinuation(cut < held ? this.#heldByte(cut) : (chunk[from + cut - held] as number))) cut = max;
      if (cut >= held) {
        this.#append(chunk.subarray(from, from + cut - held));
        from += cut - held;
        this.#handOn(base + from, onLine);
      } else {
        const line = this.#joined();
        this.#held = [line.subarray(0, cut)];
        this.#heldBytes = cut;
        this.#handOn(base + from - (held - cut), onLine);
        this.#append(line.subarray(cut));
      }
    }
    if (end > from) this.#append(chunk.subarray(from, end));
  }

  /** The held byte at `index` of the line. */
  #heldByte(index: number): number {
    let skipped = 0;
    for (const piece of this.#held) {
      if (index < skipped + piece.length) return piece[index - skipped] as number;
      skipped += piece.length;
    }
    return 0;
  }

  #append(piece: Buffer): void {
    this.#held.push(piece);
    this.#heldBytes += piece.length;
  }

  /** Hands on what is held as one line (a piece of a split line), and holds nothing. */
  #handOn(endOffset: number, onLine: LineHandler): void {
    const line = this.#joined();
    this.#held = [];
    this.#heldBytes = 0;
    onLine(line, 0, line.length, endOffset);
  }

  #joined(): Buffer {
    return this.#held.length === 1 ? (this.#held[0] as Buffer) : Buffer.concat(this.#held, this.#heldBytes);
  }

  /** The line's break has arrived (or the input ended): hands on what is held as the line's last part. */
  #finishLine(endOffset: number, onLine: LineHandler): void {
    let line = this.#joined();
    if (this.#dropping) {
      this.#linesTooLong++;
      const keep = utf8Cut(line, 0, Math.max(0, this.#maxLineBytes - this.#terminator.length));
      line = Buffer.concat([line.subarray(0, keep), this.#terminator]);
    }
    const end = !this.#dropping && line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
    this.#held = [];
    this.#heldBytes = 0;
    this.#dropping = false;
    this.#splitPieces = 0;
    onLine(line, 0, end, endOffset);
  }
}
