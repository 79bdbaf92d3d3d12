import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, type LineSplitterOptions } from '../../src/cli/lines/line-splitter.js';

const ROOMY: LineSplitterOptions = {
  maxLineBytes: 1_000_000,
  longLines: 'truncate',
  truncatedTerminator: Buffer.from('\n'),
  startOffset: 0,
};

/** The lines (as text) and their end offsets from `chunks`, input ended. */
function split(options: LineSplitterOptions, chunks: readonly Buffer[]): { lines: Array<[string, number]>; splitter: LineSplitter } {
  const splitter = new LineSplitter(options);
  const lines: Array<[string, number]> = [];
  const onLine = (bytes: Buffer, start: number, end: number, endOffset: number): void => {
    lines.push([bytes.toString('utf8', start, end), endOffset]);
  };
  for (const chunk of chunks) splitter.push(chunk, onLine);
  splitter.end(onLine);
  return { lines, splitter };
}

/** `bytes` cut at the given positions. */
function cutAt(bytes: Buffer, positions: readonly number[]): Buffer[] {
  const sorted = [...new Set(positions.map((position) => position % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const position of sorted) {
    chunks.push(bytes.subarray(from, position));
    from = position;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

describe('LineSplitter', () => {
  it('hands on lines as views of the chunk, with the offset past each break', () => {
    const chunk = Buffer.from('ab\ncd\r\n\nef');
    const seen: Array<[Buffer, number, number, number]> = [];
    const splitter = new LineSplitter(ROOMY);
    splitter.push(chunk, (bytes, start, end, endOffset) => seen.push([bytes, start, end, endOffset]));
    expect(seen).toEqual([
      [chunk, 0, 2, 3],
      [chunk, 3, 5, 7],
      [chunk, 7, 7, 8],
    ]);
    expect(splitter.offset).toBe(10);
  });

  it('truncates a long line to its head and the terminator, at a character boundary, and counts it', () => {
    const options = { ...ROOMY, maxLineBytes: 8, truncatedTerminator: Buffer.from('…') };
    // '…' is 3 bytes, so 5 bytes of head are kept: 'abcdé' would cut 'é' in two, so 'abcd' is kept.
    const { lines, splitter } = split(options, [Buffer.from('abcdéfghij'), Buffer.from('klm\nshort\n')]);
    expect(lines).toEqual([
      ['abcd…', 15],
      ['short', 21],
    ]);
    expect(splitter.linesTooLong).toBe(1);
  });

  it('splits a long line into pieces of at most maxLineBytes, each with the offset past it', () => {
    const options: LineSplitterOptions = { ...ROOMY, maxLineBytes: 4, longLines: 'split' };
    const { lines, splitter } = split(options, [Buffer.from('abcdefghij\nxy\n')]);
    expect(lines).toEqual([
      ['abcd', 4],
      ['efgh', 8],
      ['ij', 11],
      ['xy', 14],
    ]);
    expect(splitter.linesTooLong).toBe(1);
  });

  it('keeps a line of exactly maxLineBytes whole, its \\r counted and dropped', () => {
    const { lines, splitter } = split({ ...ROOMY, maxLineBytes: 4 }, [Buffer.from('abc\r\nab'), Buffer.from('c\r\nabcd\n')]);
    expect(lines).toEqual([
      ['abc', 5],
      ['abc', 10],
      ['abcd', 15],
    ]);
    expect(splitter.linesTooLong).toBe(0);
  });

  it('gives the same lines and offsets however the input is cut into chunks', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 30 }).map((text) => text.replace(/[\r\n]/g, ''));
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 20 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 4, max: 40 }),
        fc.boolean(),
        (lines, crlf, cuts, maxLineBytes, splitLong) => {
          const bytes = Buffer.from(lines.map((text) => `${text}${crlf ? '\r\n' : '\n'}`).join(''));
          const options: LineSplitterOptions = {
            maxLineBytes,
            longLines: splitLong ? 'split' : 'truncate',
            truncatedTerminator: Buffer.from('~'),
            startOffset: 7,
          };
          const whole = split(options, [bytes]);
          const cut = split(options, cutAt(bytes, cuts));
          expect(cut.lines).toEqual(whole.lines);
          expect(cut.splitter.linesTooLong).toBe(whole.splitter.linesTooLong);
          if (maxLineBytes >= 30 * 4) expect(whole.lines.map(([text]) => text)).toEqual(lines);
          for (const [text] of whole.lines) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxLineBytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('splits a long line into pieces that join back to the line', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).map((text) => text.replace(/[\r\n]/g, '') || 'x'),
        fc.integer({ min: 4, max: 50 }),
        (text, maxLineBytes) => {
          const { lines } = split({ ...ROOMY, maxLineBytes, longLines: 'split' }, [Buffer.from(`${text}\n`)]);
          expect(lines.map(([piece]) => piece).join('')).toBe(text);
        },
      ),
      { numRuns: 200 },
    );
  });
});
