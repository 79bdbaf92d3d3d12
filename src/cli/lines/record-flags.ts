import { type Command, InvalidArgumentError, Option } from 'commander';
import { wholeNumber } from '../options.js';
import { LINE_FORMATS, type LineRecordOptions, MAX_LINE_BYTES, UNPARSED_ACTIONS } from './line-record-options.js';

/** The record flags as commander parses them. */
export interface RecordFlags {
  readonly format: LineRecordOptions['format'];
  readonly fields?: readonly string[];
  readonly delimiter?: string;
  readonly keyField?: string;
  readonly key?: string;
  readonly multilineStart?: RegExp;
  readonly skipHeaderLines?: number;
  readonly maxLineBytes?: number;
  readonly truncatedTerminator?: string;
  readonly longLines?: 'split' | 'truncate';
  readonly unparsed?: 'send' | 'skip';
}

/**
 * Adds the flags that say how lines become records (`--format`, `--fields`, `--delimiter`, `--key-field`,
 * `--key`, `--multiline-start`, `--skip-header-lines`, `--max-line-bytes`,
 * `--truncated-terminator`, `--long-lines`, `--unparsed`) to `command`: the same for `kpl send`
 * and `kpl tail`.
 */
export function addRecordFlags(command: Command): Command {
  return command
    .addOption(
      new Option('--format <format>', 'what a line is: as is, JSON, or CSV, Apache or syslog turned into a JSON object')
        .choices(LINE_FORMATS)
        .default('lines'),
    )
    .option('--fields <names>', 'the CSV column names, comma-separated (with --format csv)', fieldNames)
    .option('--delimiter <char>', 'the CSV delimiter, one character; \\t for a tab (with --format csv; default ,)', delimiter)
    .addOption(
      new Option(
        '--key-field <field>',
        'partition key from this field of each record (a.b for nested fields; with --format lines the line is read as JSON)',
      ).conflicts('key'),
    )
    .option('--key <key>', 'one partition key for every record (all go to one shard)', partitionKey)
    .option(
      '--multiline-start <regex>',
      'a line matching it starts a record; other lines join the record before them (stack traces)',
      regularExpression,
    )
    .option('--skip-header-lines <n>', 'lines at the start of each file to drop', wholeNumber(0, Number.MAX_SAFE_INTEGER))
    .option(
      '--max-line-bytes <bytes>',
      `longest record; longer ones are split or truncated (default ${MAX_LINE_BYTES.toLocaleString('en-US')})`,
      wholeNumber(1, MAX_LINE_BYTES),
    )
    .option('--truncated-terminator <text>', 'appended to a truncated record (default: a newline, as the Kinesis Agent)')
    .addOption(
      new Option('--long-lines <action>', 'what happens to a record longer than --max-line-bytes')
        .choices(['split', 'truncate'])
        .default('truncate'),
    )
    .addOption(
      new Option(
        '--unparsed <action>',
        'a line that does not parse in its --format, or lacks its --key-field: sent as is (random key), or skipped; counted either way',
      )
        .choices(UNPARSED_ACTIONS)
        .default('send'),
    );
}

/** The LineRecordOptions the flags give, checked across flags (--fields with csv, and only with it). */
export function recordOptionsFrom(flags: RecordFlags): LineRecordOptions {
  if (flags.format === 'csv' && flags.fields === undefined)
    throw new InvalidArgumentError('--format csv needs --fields, the column names, e.g. --fields id,name,total');
  if (flags.format !== 'csv' && flags.fields !== undefined)
    throw new InvalidArgumentError(`--fields names CSV columns; it needs --format csv, not ${flags.format}`);
  if (flags.format !== 'csv' && flags.delimiter !== undefined)
    throw new InvalidArgumentError(`--delimiter is the CSV delimiter; it needs --format csv, not ${flags.format}`);
  return {
    format: flags.format,
    ...(flags.fields !== undefined ? { fields: flags.fields } : {}),
    ...(flags.delimiter !== undefined ? { delimiter: flags.delimiter } : {}),
    ...(flags.keyField !== undefined ? { keyField: flags.keyField } : {}),
    ...(flags.key !== undefined ? { key: flags.key } : {}),
    ...(flags.multilineStart !== undefined ? { multilineStart: flags.multilineStart } : {}),
    ...(flags.skipHeaderLines !== undefined ? { skipHeaderLines: flags.skipHeaderLines } : {}),
    ...(flags.maxLineBytes !== undefined ? { maxLineBytes: flags.maxLineBytes } : {}),
    ...(flags.truncatedTerminator !== undefined ? { truncatedTerminator: flags.truncatedTerminator } : {}),
    ...(flags.longLines !== undefined ? { longLines: flags.longLines } : {}),
    ...(flags.unparsed !== undefined ? { unparsed: flags.unparsed } : {}),
  };
}

function fieldNames(value: string): string[] {
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === ''))
    throw new InvalidArgumentError('expected column names separated by commas, none empty, e.g. id,name,total.');
  return names;
}

function delimiter(value: string): string {
  const character = value === '\\t' ? '\t' : value;
  if (character.length !== 1 || character === '"')
    throw new InvalidArgumentError('expected one character other than a quote, e.g. ; or \\t.');
  return character;
}

function partitionKey(value: string): string {
  if (value === '' || value.length > 256) throw new InvalidArgumentError('expected 1 to 256 characters.');
  return value;
}

function regularExpression(value: string): RegExp {
  try {
    return new RegExp(value);
  } catch (error) {
    throw new InvalidArgumentError(`expected a JavaScript regular expression: ${error instanceof Error ? error.message : String(error)}.`);
  }
}
