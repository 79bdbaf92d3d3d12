import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineRecordReader } from '../../src/cli/lines/line-record-reader.js';
import type { LineProblem, LineRecordOptions } from '../../src/cli/lines/line-record-options.js';
import { ValidationError } from '../../src/records.js';

interface Emitted {
  readonly key: string;
  readonly data: string;
  readonly endOffset: number;
}

/** Runs `chunks` through a reader made with `options`, then ends the input. */
function read(options: LineRecordOptions, ...chunks: string[]): { records: Emitted[]; problems: LineProblem[]; reader: LineRecordReader } {
  const records: Emitted[] = [];
  const problems: LineProblem[] = [];
  const reader = new LineRecordReader({ ...options, onProblem: (problem) => problems.push(problem) });
  const emit = (record: { partitionKey: string; data: Buffer }, endOffset: number): void => {
    records.push({ key: record.partitionKey, data: record.data.toString('utf8'), endOffset });
  };
  for (const chunk of chunks) reader.push(Buffer.from(chunk, 'utf8'), emit);
  reader.end(emit);
  return { records, problems, reader };
}

describe('LineRecordReader', () => {
  it('emits each line with the offset just past its line break, joining lines across chunks and dropping \\r', () => {
    const { records, reader } = read({ format: 'lines', key: 'k' }, 'one\ntw', 'o\r\nthree\n');
    expect(records).toEqual([
      { key: 'k', data: 'one', endOffset: 4 },
      { key: 'k', data: 'two', endOffset: 9 },
      { key: 'k', data: 'three', endOffset: 15 },
    ]);
    expect(reader.linesRead).toBe(3);
  });

  it('holds a partial last line until its line break arrives, and emits it at the end of the input', () => {
    const records: string[] = [];
    const reader = new LineRecordReader({ format: 'lines', key: 'k' });
    const emit = (record: { data: Buffer }): void => {
      records.push(record.data.toString());
    };
    reader.push(Buffer.from('a\nhalf'), emit);
    reader.flushPending(emit);
    expect(records).toEqual(['a']);
    reader.push(Buffer.from(' done\nlast'), emit);
    expect(records).toEqual(['a', 'half done']);
    reader.end(emit);
    expect(records).toEqual(['a', 'half done', 'last']);
  });

  it('skips empty lines and header lines, and counts them as read', () => {
    const { records, reader } = read({ format: 'lines', key: 'k', skipHeaderLines: 2 }, 'h1\nh2\n\nx\n\n');
    expect(records.map((record) => record.data)).toEqual(['x']);
    expect(reader.linesRead).toBe(5);
  });

  it('skips no header lines when it starts inside the file, and counts offsets from there', () => {
    const { records } = read({ format: 'lines', key: 'k', skipHeaderLines: 1, startOffset: 100 }, 'x\n');
    expect(records).toEqual([{ key: 'k', data: 'x', endOffset: 102 }]);
  });

  it('takes the key from a JSON field, nested or a number, and gives random keys without one', () => {
    const { records } = read({ format: 'lines', keyField: 'a.b' }, '{"a":{"b":"x"}}\n{"a":{"b":7}}\n');
    expect(records.map((record) => record.key)).toEqual(['x', '7']);
    const random = read({ format: 'lines' }, 'a\nb\n').records.map((record) => record.key);
    expect(random[0]).not.toBe(random[1]);
  });

  it('sends a line without its key field with a random key, counted and reported', () => {
    const { records, problems, reader } = read({ format: 'lines', keyField: 'id' }, '{"id":"a"}\nnot json\n{"other":1}\n');
    expect(records.map((record) => record.data)).toEqual(['{"id":"a"}', 'not json', '{"other":1}']);
    expect(problems.map((problem) => [problem.code, problem.line])).toEqual([
      ['NotJson', 2],
      ['KeyFieldMissing', 3],
    ]);
    expect(reader.linesUnparsed).toBe(2);
  });

  it('sends a line that is not JSON in the json format as it is, with the fixed key', () => {
    const { records, problems } = read({ format: 'json', key: 'k' }, '{"a":1}\n{"a":\n');
    expect(records).toEqual([
      { key: 'k', data: '{"a":1}', endOffset: 8 },
      { key: 'k', data: '{"a":', endOffset: 14 },
    ]);
    expect(problems.map((problem) => problem.message)).toEqual(['the line is not JSON']);
  });

  it('skips unparsed lines when told to', () => {
    const { records, problems } = read({ format: 'json', unparsed: 'skip' }, '{"id":"a"}\n{broken\n');
    expect(records.map((record) => record.data)).toEqual(['{"id":"a"}']);
    expect(problems.map((problem) => problem.code)).toEqual(['NotJson']);
  });

  it('rejects bad options with a ValidationError naming the option', () => {
    expect(() => new LineRecordReader({ format: 'csv' })).toThrow(ValidationError);
    expect(() => new LineRecordReader({ format: 'lines', key: 'a', keyField: 'b' })).toThrow(/keyField or key/);
    expect(() => new LineRecordReader({ format: 'lines', maxLineBytes: 0 })).toThrow(/maxLineBytes must be a whole number/);
    expect(() => new LineRecordReader({ format: 'nope' as 'lines' })).toThrow(/format must be one of/);
  });

  it('turns CSV lines into JSON objects and keys them by a column', () => {
    const { records } = read(
      { format: 'csv', fields: ['id', 'customer', 'total'], keyField: 'customer' },
      'id,customer,total\n',
      '1042,"Smith, John",19.99\n',
    );
    expect(records.slice(1)).toEqual([
      { key: 'Smith, John', data: '{"id":"1042","customer":"Smith, John","total":"19.99"}', endOffset: 43 },
    ]);
  });

  it('reads tab-separated lines with a delimiter', () => {
    const { records } = read({ format: 'csv', fields: ['a', 'b'], delimiter: '\t', key: 'k' }, 'x,1\t"y\tz"\n');
    expect(records[0]?.data).toBe('{"a":"x,1","b":"y\\tz"}');
    expect(() => new LineRecordReader({ format: 'lines', delimiter: ';' })).toThrow(/delimiter is for the csv format/);
  });

  it('turns Apache combined lines into JSON objects keyed by host, and sends a line in no format as it is', () => {
    const line = '203.0.113.7 - - [05/Dec/2026:11:59:40 +0000] "GET / HTTP/1.1" 200 512 "-" "curl/8.5.0"';
    const { records, problems } = read({ format: 'apache', keyField: 'host' }, `${line}\ngarbage\n`);
    expect(records[0]).toMatchObject({ key: '203.0.113.7' });
    expect(JSON.parse(records[0]?.data ?? '')).toMatchObject({
      host: '203.0.113.7',
      request: 'GET / HTTP/1.1',
      referer: null,
      agent: 'curl/8.5.0',
    });
    expect(records[1]?.data).toBe('garbage');
    expect(problems).toEqual([
      { code: 'NotApacheLog', message: 'the line is not an Apache common or combined log line', line: 2, endOffset: line.length + 9 },
    ]);
  });

  it('turns syslog lines into JSON objects keyed by a numeric field', () => {
    const { records } = read(
      { format: 'syslog', keyField: 'severity' },
      '<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - failed\n',
    );
    expect(records[0]?.key).toBe('2');
    expect(JSON.parse(records[0]?.data ?? '')).toMatchObject({ program: 'su', message: 'failed' });
  });

  it('joins stack traces with --multiline-start, and emits the last one on flushPending', () => {
    const records: string[] = [];
    const reader = new LineRecordReader({ format: 'lines', key: 'k', multilineStart: /^\d{4}-/ });
    const emit = (record: { data: Buffer }): void => {
      records.push(record.data.toString());
    };
    reader.push(Buffer.from('2026-12-05 ERROR boom\njava.lang.RuntimeException: x\n\tat a.B.c(B.java:1)\n2026-12-05 INFO ok\n'), emit);
    expect(records).toEqual(['2026-12-05 ERROR boom\njava.lang.RuntimeException: x\n\tat a.B.c(B.java:1)']);
    expect(reader.hasPending).toBe(true);
    reader.flushPending(emit);
    expect(records[1]).toBe('2026-12-05 INFO ok');
  });

  it('truncates a converted record longer than maxLineBytes, and counts it', () => {
    const { records, reader } = read({ format: 'csv', fields: ['a'], maxLineBytes: 20, truncatedTerminator: '~' }, `${'x'.repeat(18)}\n`);
    expect(records[0]?.data).toBe(`${'{"a":"xxxxxxxxxxxxx'.slice(0, 19)}~`);
    expect(reader.linesTruncated).toBe(1);
  });

  it('gives the same records and offsets however the file is cut into chunks', () => {
    const line = fc.oneof(
      fc.record({ id: fc.string({ maxLength: 5 }), n: fc.integer() }).map((value) => JSON.stringify(value)),
      fc.constantFrom('\tat a.B.c(B.java:1)', 'not json', '', 'é☃𐀀 long line '.repeat(4)),
    );
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 15 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        (lines, cuts, multiline, split) => {
          const bytes = Buffer.from(lines.map((text) => `${text}\n`).join(''));
          const options: LineRecordOptions = {
            format: 'lines',
            keyField: 'id',
            skipHeaderLines: 1,
            maxLineBytes: 40,
            truncatedTerminator: '~',
            longLines: split ? 'split' : 'truncate',
            ...(multiline ? { multilineStart: /^\{/ } : {}),
          };
          const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...positions].map((from, i) => bytes.subarray(from, [...positions, bytes.length][i]));
          const whole = read(options, bytes.toString('utf8'));
          const records: Emitted[] = [];
          const reader = new LineRecordReader(options);
          const emit = (record: { partitionKey: string; data: Buffer }, endOffset: number): void => {
            records.push({ key: record.partitionKey, data: record.data.toString('utf8'), endOffset });
          };
          for (const chunk of chunks) reader.push(chunk, emit);
          reader.end(emit);
          // Random keys differ between runs; a key read from the record must not.
          const keyed = (list: readonly Emitted[]): unknown[] =>
            list.map((record) => [record.data, record.endOffset, idOf(record.data) === undefined ? '' : record.key]);
          expect(keyed(records)).toEqual(keyed(whole.records));
          expect([reader.linesRead, reader.linesTruncated, reader.linesUnparsed]).toEqual([
            whole.reader.linesRead,
            whole.reader.linesTruncated,
            whole.reader.linesUnparsed,
          ]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** The non-empty `id` of a JSON record, if it has one. */
function idOf(data: string): string | undefined {
  try {
    const id = (JSON.parse(data) as { id?: unknown }).id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}
