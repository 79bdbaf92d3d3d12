import { utf8Cut } from './utf8-cut.js';

/** Receives one joined record's bytes, and the file offset just past its last line. */
export type JoinedHandler = (bytes: Buffer, endOffset: number) => void;

/** How a {@link MultilineJoiner} starts and bounds its records. */
export interface MultilineJoinerOptions {
  /** A line matching it starts a record; any other line continues the record before it. */
  readonly start: RegExp;
  /** Longest record, in bytes. */
  readonly maxBytes: number;
  /** A record that would grow longer is handed on and a new one begun, or keeps its head and drops the rest. */
  readonly longRecords: 'split' | 'truncate';
  /** Appended to a truncated record's head; the two together are at most maxBytes. */
  readonly truncatedTerminator: Buffer;
}

const NEWLINE = Buffer.from('\n');

/**
 * Joins continuation lines (a Java stack trace's `\tat ...` lines, say) to the line that starts
 * their record, with `\n` between them. A record is handed on when the next one starts, or on
 * {@link flush}. Lines before the first start line form a record of their own, so none is lost.
 */
export class MultilineJoiner {
  readonly #start: RegExp;
  readonly #maxBytes: number;
  readonly #split: boolean;
  readonly #terminator: Buffer;
  /** The pending record's lines and the `\n`s between them. */
  #parts: Buffer[] = [];
  #bytes = 0;
  #endOffset = 0;
  #truncated = false;
  #recordsTooLong = 0;

  constructor(options: MultilineJoinerOptions) {
    this.#start = options.start;
    this.#maxBytes = options.maxBytes;
    this.#split = options.longRecords === 'split';
    this.#terminator = options.truncatedTerminator;
  }

  /** Records that grew longer than maxBytes, split or truncated. */
  get recordsTooLong(): number {
    return this.#recordsTooLong;
  }

  /** True while a record is waiting for its next line or for {@link flush}. */
  get pending(): boolean {
    return this.#parts.length > 0;
  }

  /** Takes one line (`bytes[start, end)`, at most maxBytes long); hands on the record it ends, if any. */
  line(bytes: Buffer, start: number, end: number, endOffset: number, onRecord: JoinedHandler): void {
    this.#start.lastIndex = 0;
    if (this.#parts.length > 0 && this.#start.test(bytes.toString('utf8', start, end))) this.flush(onRecord);
    const length = end - start;
    if (this.#parts.length > 0 && this.#bytes + 1 + length > this.#maxBytes) {
      if (this.#split) {
        if (!this.#truncated) this.#recordsTooLong++;
        this.#truncated = true;
        this.#handOn(onRecord);
      } else {
        if (!this.#truncated) this.#recordsTooLong++;
        this.#truncated = true;
        this.#endOffset = endOffset;
        // The head is kept whole up to maxBytes; the cut for the terminator comes at the hand-on.
        const room = this.#maxBytes - this.#bytes - 1;
        if (room > 0) this.#append(bytes.subarray(start, utf8Cut(bytes, start, start + room)), true);
        return;
      }
    }
    this.#append(bytes.subarray(start, end), this.#parts.length > 0);
    this.#endOffset = endOffset;
  }

  /** Hands on the pending record, if any: its next start line has not come (idle time, or the end of the file). */
  flush(onRecord: JoinedHandler): void {
    if (this.#parts.length === 0) return;
    if (!this.#split && this.#truncated) {
      const whole = Buffer.concat(this.#parts, this.#bytes);
      const keep = utf8Cut(whole, 0, Math.max(0, this.#maxBytes - this.#terminator.length));
      this.#parts = [whole.subarray(0, keep), this.#terminator];
      this.#bytes = keep + this.#terminator.length;
    }
    this.#truncated = false;
    this.#handOn(onRecord);
  }

  #append(line: Buffer, afterNewline: boolean): void {
    if (afterNewline) {
      this.#parts.push(NEWLINE);
      this.#bytes++;
    }
    this.#parts.push(line);
    this.#bytes += line.length;
  }

  #handOn(onRecord: JoinedHandler): void {
    const record = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#bytes);
    this.#parts = [];
    this.#bytes = 0;
    onRecord(record, this.#endOffset);
  }
}
