import { MAX_PARTITION_KEY_LENGTH, MAX_RECORD_BYTES } from '../../format/limits.js';
import { ValidationError } from '../../records.js';

/** The record formats: a line as it is, a JSON line, or a CSV, Apache or syslog line turned into a JSON object. */
export const LINE_FORMATS = ['lines', 'json', 'csv', 'apache', 'syslog'] as const;

/** What happens to a line that does not parse in its format, or has no usable key field. */
export const UNPARSED_ACTIONS = ['send', 'skip'] as const;

/**
 * The default and largest `maxLineBytes`: a Kinesis record's 1 MiB, less room for the longest
 * partition key (256 characters of up to 4 UTF-8 bytes each).
 */
export const MAX_LINE_BYTES = MAX_RECORD_BYTES - 4 * MAX_PARTITION_KEY_LENGTH;

/** How a LineRecordReader (line-record-reader.ts) turns lines into records. */
export interface LineRecordOptions {
  /**
   * `lines`: each line as it is. `json`: each line must be a JSON document. `csv` (with `fields`),
   * `apache` (common or combined log) and `syslog` (RFC 3164 or 5424): each line becomes a JSON
   * object, as the Kinesis Agent's CSVTOJSON and LOGTOJSON make it.
   */
  format: 'lines' | 'json' | 'csv' | 'apache' | 'syslog';
  /** The CSV column names, in order; required for `csv` and only for it. */
  fields?: readonly string[];
  /** The CSV delimiter, one character (`\t` for TSV), as the Agent's CSVTOJSON `delimiter`; only for `csv`. @default ',' */
  delimiter?: string;
  /**
   * The partition key comes from this field of the converted record (`a.b` for a nested field).
   * With `lines` the line is read as JSON for it. A string, number or boolean of 1 to 256 characters.
   */
  keyField?: string;
  /** One partition key for every record (all go to one shard). With neither this nor keyField: a random key per record. */
  key?: string;
  /** A line matching it starts a record; other lines are joined to the record before them with `\n`. */
  multilineStart?: RegExp;
  /** Lines at the start of the file dropped before any record (only when reading from offset 0). @default 0 */
  skipHeaderLines?: number;
  /** Longest record data, in bytes, from 1 to {@link MAX_LINE_BYTES}. @default MAX_LINE_BYTES */
  maxLineBytes?: number;
  /** Appended to a truncated record, within maxLineBytes. @default '\n' (as the Kinesis Agent; no whole line ends with one) */
  truncatedTerminator?: string;
  /** A longer line is split into records of at most maxLineBytes, or truncated to its head and the terminator. @default 'truncate' */
  longLines?: 'split' | 'truncate';
  /**
   * A line that does not parse in its format, or lacks its key field, is sent as it is (with a
   * random key when the key is what is missing), or skipped. Either way it is counted and passed
   * to onProblem. @default 'send'
   */
  unparsed?: 'send' | 'skip';
  /** Told of every line counted in linesUnparsed, for logging. */
  onProblem?: (problem: LineProblem) => void;
  /** The file offset of the first byte pushed (a reader resuming from a checkpoint). @default 0 */
  startOffset?: number;
}

/** A record made from one line, or from several joined ones. */
export interface LineRecord {
  partitionKey: string;
  /** The record's bytes: for `lines` and `json`, a view of the chunk pushed, not a copy. */
  data: Buffer;
}

/** Receives each record and the file offset just past its last line. */
export type LineRecordEmitter = (record: LineRecord, endOffset: number) => void;

/** Why a line was counted as unparsed. */
export type LineProblemCode = 'NotJson' | 'NotCsv' | 'NotApacheLog' | 'NotSyslog' | 'KeyFieldMissing' | 'KeyFieldTooLong';

/** A line that did not parse in its format, or had no usable key field. */
export interface LineProblem {
  readonly code: LineProblemCode;
  /** In words, naming the format or the field. */
  readonly message: string;
  /** The number of the record's last line in the input (1 for the first line pushed). */
  readonly line: number;
  /** The file offset just past the line. */
  readonly endOffset: number;
}

/**
 * Checks every option of a {@link LineRecordOptions} and the rules between them.
 *
 * @throws ValidationError naming the option, what is wrong with it and the limit.
 */
export function validateLineRecordOptions(options: LineRecordOptions): void {
  if (!(LINE_FORMATS as readonly string[]).includes(options.format)) {
    throw new ValidationError(
      'format',
      `format must be one of ${LINE_FORMATS.join(', ')}, got ${String(options.format)}`,
      LINE_FORMATS.join('|'),
      String(options.format),
    );
  }
  if (options.format === 'csv') {
    if (options.fields === undefined || options.fields.length === 0 || options.fields.some((field) => field === '')) {
      throw new ValidationError('fields', 'the csv format needs fields: the column names, in order, none of them empty');
    }
  } else if (options.fields !== undefined) {
    throw new ValidationError('fields', `fields name CSV columns; the format is ${options.format}, not csv`);
  }
  if (
    options.delimiter !== undefined &&
    (options.format !== 'csv' || options.delimiter.length !== 1 || options.delimiter === '"' || options.delimiter === '\n')
  ) {
    throw new ValidationError(
      'delimiter',
      `delimiter is for the csv format and is one character other than a quote or a newline, got ${JSON.stringify(options.delimiter)}`,
    );
  }
  if (options.keyField !== undefined && options.key !== undefined) {
    throw new ValidationError('keyField', 'give keyField or key, not both');
  }
  if (options.keyField !== undefined && options.keyField.split('.').some((name) => name === '')) {
    throw new ValidationError('keyField', `keyField ${JSON.stringify(options.keyField)} has an empty name; write nested fields as a.b`);
  }
  if (options.key !== undefined && (options.key === '' || options.key.length > MAX_PARTITION_KEY_LENGTH)) {
    throw new ValidationError(
      'key',
      `key must be 1 to ${MAX_PARTITION_KEY_LENGTH} characters, got ${options.key.length}`,
      MAX_PARTITION_KEY_LENGTH,
      options.key.length,
    );
  }
  wholeNumberOption('skipHeaderLines', options.skipHeaderLines, 0, Number.MAX_SAFE_INTEGER);
  wholeNumberOption('maxLineBytes', options.maxLineBytes, 1, MAX_LINE_BYTES);
  wholeNumberOption('startOffset', options.startOffset, 0, Number.MAX_SAFE_INTEGER);
  const terminatorBytes = Buffer.byteLength(options.truncatedTerminator ?? '\n', 'utf8');
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  if (terminatorBytes >= maxLineBytes) {
    throw new ValidationError(
      'truncatedTerminator',
      `truncatedTerminator is ${terminatorBytes} bytes; it must be shorter than maxLineBytes (${maxLineBytes})`,
      maxLineBytes - 1,
      terminatorBytes,
    );
  }
  if (options.longLines !== undefined && options.longLines !== 'split' && options.longLines !== 'truncate') {
    throw new ValidationError('longLines', `longLines must be split or truncate, got ${String(options.longLines)}`);
  }
  if (options.unparsed !== undefined && !(UNPARSED_ACTIONS as readonly string[]).includes(options.unparsed)) {
    throw new ValidationError('unparsed', `unparsed must be send or skip, got ${String(options.unparsed)}`);
  }
  if (options.multilineStart !== undefined && !(options.multilineStart instanceof RegExp)) {
    throw new ValidationError('multilineStart', 'multilineStart must be a RegExp');
  }
}

function wholeNumberOption(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(
      name,
      `${name} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, got ${String(value)}`,
      `${min} to ${max}`,
      String(value),
    );
  }
}
