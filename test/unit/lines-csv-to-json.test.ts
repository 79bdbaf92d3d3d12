import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvToJson } from '../../src/cli/lines/csv-to-json.js';

describe('CsvToJson', () => {
  const orders = new CsvToJson(['id', 'customer', 'address', 'note', 'total']);

  it('turns quoted commas and doubled quotes into one value each (RFC 4180)', () => {
    // A real export line: a quoted address with commas, a note with quotes in it, an empty field.
    expect(orders.convert('1042,"Smith, John","12 High St, Apt 4, Springfield","said ""leave at door""",19.99')).toEqual({
      id: '1042',
      customer: 'Smith, John',
      address: '12 High St, Apt 4, Springfield',
      note: 'said "leave at door"',
      total: '19.99',
    });
    expect(orders.convert('1043,Jane,,"",0')).toEqual({ id: '1043', customer: 'Jane', address: '', note: '', total: '0' });
  });

  it('gives a missing column null and drops columns past the names, as the Agent does', () => {
    expect(orders.convert('1,a')).toEqual({ id: '1', customer: 'a', address: null, note: null, total: null });
    expect(new CsvToJson(['a']).convert('x,y,z')).toEqual({ a: 'x' });
  });

  it('takes another delimiter', () => {
    expect(new CsvToJson(['a', 'b'], '\t').convert('x y\t"p\tq"')).toEqual({ a: 'x y', b: 'p\tq' });
  });

  it('says a line with an unclosed quote or text after a closing quote is not CSV', () => {
    expect(orders.convert('1,"open')).toBeUndefined();
    expect(orders.convert('1,"closed"x,2')).toBeUndefined();
  });

  it('reads back any values written with RFC 4180 quoting', () => {
    const value = fc.string({ maxLength: 12 }).map((text) => text.replace(/[\r\n]/g, ''));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 6 }), (values) => {
        const line = values.map((text) => (/[",]/.test(text) || text === '' ? `"${text.replace(/"/g, '""')}"` : text)).join(',');
        const names = values.map((_, i) => `c${i}`);
        expect(new CsvToJson(names).convert(line)).toEqual(Object.fromEntries(names.map((name, i) => [name, values[i]])));
      }),
      { numRuns: 500 },
    );
  });
});
