import { MAX_PARTITION_KEY_LENGTH } from '../../format/limits.js';
import { apacheLogToJson } from './apache-log.js';
import { CsvToJson } from './csv-to-json.js';
import { JsonFieldScanner } from './json-field-scanner.js';
import {
  type LineProblem,
  type LineProblemCode,
  type LineRecordEmitter,
  type LineRecordOptions,
  MAX_LINE_BYTES,
  validateLineRecordOptions,
} from './line-record-options.js';
import { LineSplitter } from './line-splitter.js';
import { MultilineJoiner } from './multiline-joiner.js';
import { keyAtPath, keyProblem, randomPartitionKey } from './partition-keys.js';
import { syslogToJson } from './syslog.js';
import { utf8Cut } from './utf8-cut.js';

type Converter = (line: string) => Record<string, unknown> | undefined;

const NOT_PARSED: Readonly<Record<'json' | 'csv' | 'apache' | 'syslog', LineProblemCode>> = {
  json: 'NotJson',
  csv: 'NotCsv',
  apache: 'NotApacheLog',
  syslog: 'NotSyslog',
};

const FORMAT_NAMES: Readonly<Record<'json' | 'csv' | 'apache' | 'syslog', string>> = {
  json: 'JSON',
  csv: 'CSV',
  apache: 'an Apache common or combined log line',
  syslog: 'an RFC 3164 or RFC 5424 syslog line',
};

/** Turns one file's bytes into records; one instance per file (it keeps header and multi-line state). */
export class LineRecordReader {
  readonly #format: LineRecordOptions['format'];
  readonly #keyPath: readonly string[] | undefined;
  readonly #keyField: string | undefined;
  readonly #fixedKey: string | undefined;
  readonly #maxLineBytes: number;
  readonly #split: boolean;
  readonly #terminator: Buffer;
  readonly #sendUnparsed: boolean;
  readonly #onProblem: ((problem: LineProblem) => void) | undefined;
  readonly #splitter: LineSplitter;
  readonly #joiner: MultilineJoiner | undefined;
  /** Validates `json` lines and reads the key field of `json` and `lines` ones. */
  readonly #scanner: JsonFieldScanner | undefined;
  readonly #convert: Converter | undefined;
  #headerLinesLeft: number;
  #linesRead = 0;
  #linesUnparsed = 0;
  #recordsTooLong = 0;
  /** The emitter of the push() or flush in progress: the line handlers are bound once, not per call. */
  #emit: LineRecordEmitter = () => undefined;

  /** @throws ValidationError naming the option, what is wrong with it and the limit. */
  constructor(options: LineRecordOptions) {
    validateLineRecordOptions(options);
    this.#format = options.format;
    this.#keyField = options.keyField;
    this.#keyPath = options.keyField?.split('.');
    this.#fixedKey = options.key;
    this.#maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.#split = options.longLines === 'split';
    this.#terminator = Buffer.from(options.truncatedTerminator ?? '\n', 'utf8');
    this.#sendUnparsed = (options.unparsed ?? 'send') === 'send';
    this.#onProblem = options.onProblem;
    const startOffset = options.startOffset ?? 0;
    this.#headerLinesLeft = startOffset === 0 ? (options.skipHeaderLines ?? 0) : 0;
    const bounds = { truncatedTerminator: this.#terminator };
    this.#splitter = new LineSplitter({
      ...bounds,
      maxLineBytes: this.#maxLineBytes,
      longLines: options.longLines ?? 'truncate',
      startOffset,
    });
    this.#joiner =
      options.multilineStart === undefined
        ? undefined
        : new MultilineJoiner({
            ...bounds,
            start: options.multilineStart,
            maxBytes: this.#maxLineBytes,
            longRecords: options.longLines ?? 'truncate',
          });
    const format = options.format;
    this.#scanner =
      format === 'json' || (format === 'lines' && this.#keyPath !== undefined) ? new JsonFieldScanner(this.#keyPath ?? []) : undefined;
    if (format === 'csv') {
      const csv = new CsvToJson(options.fields ?? [], options.delimiter);
      this.#convert = (line) => csv.convert(line);
    } else {
      this.#convert = format === 'apache' ? apacheLogToJson : format === 'syslog' ? syslogToJson : undefined;
    }
  }

  /** Lines taken from the input so far, header lines and empty lines included. */
  get linesRead(): number {
    return this.#linesRead;
  }

  /** Lines (or joined records) longer than maxLineBytes, split or truncated. */
  get linesTruncated(): number {
    return this.#splitter.linesTooLong + (this.#joiner?.recordsTooLong ?? 0) + this.#recordsTooLong;
  }

  /** Lines that did not parse in their format or had no usable key field (sent as they are, or skipped). */
  get linesUnparsed(): number {
    return this.#linesUnparsed;
  }

  /** True while a multi-line record waits for its next start line; {@link flushPending} sends it. */
  get hasPending(): boolean {
    return this.#joiner?.pending ?? false;
  }

  /**
   * Feeds the next bytes of the file; calls emit for each complete record with the file offset
   * just past its last line. A last line without its line break is held until the break arrives.
   * Records may be views of `chunk`: the caller must not write into it afterwards.
   */
  push(chunk: Buffer, emit: LineRecordEmitter): void {
    this.#emit = emit;
    this.#splitter.push(chunk, this.#onLine);
  }

  /** Emits a pending multi-line record (after idle time, or at the file's end when it is rotated away). */
  flushPending(emit: LineRecordEmitter): void {
    this.#emit = emit;
    this.#joiner?.flush(this.#onJoined);
  }

  /** The input is over (the end of a file that is read once, or of stdin): emits the held last line and the pending record. */
  end(emit: LineRecordEmitter): void {
    this.#emit = emit;
    this.#splitter.end(this.#onLine);
    this.#joiner?.flush(this.#onJoined);
  }

  readonly #onLine = (bytes: Buffer, start: number, end: number, endOffset: number): void => {
    this.#linesRead++;
    if (this.#headerLinesLeft > 0) {
      this.#headerLinesLeft--;
      return;
    }
    if (this.#joiner !== undefined) this.#joiner.line(bytes, start, end, endOffset, this.#onJoined);
    else if (end > start) this.#record(bytes, start, end, endOffset);
  };

  readonly #onJoined = (bytes: Buffer, endOffset: number): void => {
    if (bytes.length > 0) this.#record(bytes, 0, bytes.length, endOffset);
  };

  #record(bytes: Buffer, start: number, end: number, endOffset: number): void {
    const scanner = this.#scanner;
    if (scanner !== undefined) {
      const valid = scanner.scan(bytes, start, end);
      const data = bytes.subarray(start, end);
      if (!valid) {
        const message =
          this.#keyField === undefined
            ? 'the line is not JSON'
            : `the line is not JSON, so --key-field ${this.#keyField} cannot be read from it`;
        if (this.#problem('NotJson', message, endOffset))
          this.#emit({ partitionKey: this.#fixedKey ?? randomPartitionKey(), data }, endOffset);
        return;
      }
      this.#emitKeyed(data, scanner.value, endOffset);
      return;
    }
    const convert = this.#convert;
    if (convert === undefined) {
      this.#emit({ partitionKey: this.#fixedKey ?? randomPartitionKey(), data: bytes.subarray(start, end) }, endOffset);
      return;
    }
    const format = this.#format as 'csv' | 'apache' | 'syslog';
    const converted = convert(bytes.toString('utf8', start, end));
    if (converted === undefined) {
      if (this.#problem(NOT_PARSED[format], `the line is not ${FORMAT_NAMES[format]}`, endOffset)) {
        this.#emit({ partitionKey: this.#fixedKey ?? randomPartitionKey(), data: bytes.subarray(start, end) }, endOffset);
      }
      return;
    }
    const partitionKey =
      this.#keyPath === undefined
        ? (this.#fixedKey ?? randomPartitionKey())
        : this.#keyFromField(keyAtPath(converted, this.#keyPath), endOffset);
    if (partitionKey === undefined) return;
    for (const data of this.#bounded(Buffer.from(JSON.stringify(converted), 'utf8'))) this.#emit({ partitionKey, data }, endOffset);
  }

  /** Emits a `lines` or `json` record with its key: fixed, random, or the field the scanner found. */
  #emitKeyed(data: Buffer, fieldValue: string | undefined, endOffset: number): void {
    const partitionKey = this.#keyPath === undefined ? (this.#fixedKey ?? randomPartitionKey()) : this.#keyFromField(fieldValue, endOffset);
    if (partitionKey !== undefined) this.#emit({ partitionKey, data }, endOffset);
  }

  /** The key field's value as a partition key; when it cannot be one, a random key (or undefined: skip the record), counted. */
  #keyFromField(key: string | undefined, endOffset: number): string | undefined {
    const problem = keyProblem(key);
    if (problem === undefined) return key;
    const message =
      problem === 'KeyFieldMissing'
        ? `the record has no non-empty string, number or boolean at ${this.#keyField as string}`
        : `the record's ${this.#keyField as string} is ${(key as string).length} characters; a partition key is at most ${MAX_PARTITION_KEY_LENGTH}`;
    return this.#problem(problem, message, endOffset) ? randomPartitionKey() : undefined;
  }

  /** A converted record longer than maxLineBytes, split into pieces or truncated, as longLines says. */
  #bounded(data: Buffer): Buffer[] {
    const max = this.#maxLineBytes;
    if (data.length <= max) return [data];
    this.#recordsTooLong++;
    if (!this.#split) {
      const keep = utf8Cut(data, 0, Math.max(0, max - this.#terminator.length));
      return [Buffer.concat([data.subarray(0, keep), this.#terminator])];
    }
    const pieces: Buffer[] = [];
    for (let from = 0; from < data.length;) {
      let cut = from + max >= data.length ? data.length : utf8Cut(data, from, from + max);
      if (cut === from) cut = from + max;
      pieces.push(data.subarray(from, cut));
      from = cut;
    }
    return pieces;
  }

  /** Counts and reports an unparsed line; true when it is to be sent as it is. */
  #problem(code: LineProblemCode, message: string, endOffset: number): boolean {
    this.#linesUnparsed++;
    this.#onProblem?.({ code, message, line: this.#linesRead, endOffset });
    return this.#sendUnparsed;
  }
}
