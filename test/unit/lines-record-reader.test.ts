import { describe, expect, it } from 'vitest';
import { type LineProblem, type LineRecordOptions, LineRecordReader } from '../../src/cli/lines/line-record-reader.js';
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
    expect(problems.map((problem) => [problem.code, problem.line])).toEqual([['NotJson', 2], ['KeyFieldMissing', 3]]);
    expect(reader.linesUnparsed).toBe(2);
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
});
