import { describe, expect, it } from 'vitest';
import { type LineRecordOptions, MAX_LINE_BYTES, validateLineRecordOptions } from '../../src/cli/lines/line-record-options.js';
import { ValidationError } from '../../src/records.js';

describe('validateLineRecordOptions', () => {
  it.each<[string, LineRecordOptions, RegExp]>([
    ['format', { format: 'xml' as 'lines' }, /format must be one of lines, json, csv, apache, syslog, got xml/],
    ['fields', { format: 'csv' }, /the csv format needs fields/],
    ['fields', { format: 'csv', fields: ['a', ''] }, /none of them empty/],
    ['fields', { format: 'json', fields: ['a'] }, /the format is json, not csv/],
    ['delimiter', { format: 'csv', fields: ['a'], delimiter: '"' }, /one character other than a quote/],
    ['delimiter', { format: 'lines', delimiter: ';' }, /delimiter is for the csv format/],
    ['keyField', { format: 'lines', keyField: 'a', key: 'b' }, /give keyField or key, not both/],
    ['keyField', { format: 'json', keyField: 'a..b' }, /has an empty name/],
    ['key', { format: 'lines', key: 'k'.repeat(257) }, /key must be 1 to 256 characters, got 257/],
    ['skipHeaderLines', { format: 'lines', skipHeaderLines: -1 }, /skipHeaderLines must be a whole number from 0/],
    ['maxLineBytes', { format: 'lines', maxLineBytes: MAX_LINE_BYTES + 1 }, /maxLineBytes must be a whole number from 1 to/],
    ['startOffset', { format: 'lines', startOffset: 1.5 }, /startOffset must be a whole number/],
    ['truncatedTerminator', { format: 'lines', maxLineBytes: 2, truncatedTerminator: '..' }, /must be shorter than maxLineBytes \(2\)/],
    ['longLines', { format: 'lines', longLines: 'wrap' as 'split' }, /longLines must be split or truncate, got wrap/],
    ['unparsed', { format: 'lines', unparsed: 'drop' as 'skip' }, /unparsed must be send or skip, got drop/],
    ['multilineStart', { format: 'lines', multilineStart: '^x' as unknown as RegExp }, /multilineStart must be a RegExp/],
  ])('rejects a bad %s, naming it', (field, options, message) => {
    let thrown: unknown;
    try {
      validateLineRecordOptions(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).field).toBe(field);
    expect((thrown as Error).message).toMatch(message);
  });

  it('accepts every format with its options', () => {
    for (const options of [
      { format: 'lines', keyField: 'a.b', maxLineBytes: 100, truncatedTerminator: '…', longLines: 'split' },
      { format: 'csv', fields: ['a', 'b'], delimiter: '\t', unparsed: 'skip' },
      { format: 'syslog', key: 'host', multilineStart: /^\S/, skipHeaderLines: 2, startOffset: 0 },
    ] satisfies LineRecordOptions[]) {
      expect(() => validateLineRecordOptions(options)).not.toThrow();
    }
  });
});
