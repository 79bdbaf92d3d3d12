import * as fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { KeyTable } from '../../src/format/key-table.js';

const TAG_PARTITION_KEY_TABLE = (1 << 3) | 2;
const schema = protobuf.Type.fromJSON('Table', { fields: { keys: { rule: 'repeated', type: 'string', id: 1 } } });

/** Finds each key, adding those the table lacks; returns the indices. */
function addAll(table: KeyTable, keys: readonly string[]): number[] {
  return keys.map((key) => {
    const index = table.find(key);
    if (index === table.count) table.add();
    return index;
  });
}

function tableBytes(table: KeyTable): Uint8Array {
  const out = new Uint8Array(table.byteLength);
  expect(table.copyTo(out, 0)).toBe(table.byteLength);
  return out;
}

describe('KeyTable', () => {
  it('indexes distinct keys in order of first use, and writes them as protobuf fields', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 300 }),
            fc.constantFrom('a', 'b', 'é', '\u{1F600}', '\uD800', '\uDBFF', `${'long-'.repeat(30)}é`),
          ),
          { maxLength: 200 },
        ),
        (keys) => {
          const table = new KeyTable(TAG_PARTITION_KEY_TABLE);
          // Keys are the same key when their UTF-8 bytes are, as on the wire: two strings that differ
          // only in lone surrogates both become U+FFFD.
          const utf8 = (key: string): string => Buffer.from(key, 'utf8').toString('utf8');
          const distinct = [...new Set(keys.map(utf8))];
          expect(addAll(table, keys)).toEqual(keys.map((key) => distinct.indexOf(utf8(key))));
          expect(table.count).toBe(distinct.length);
          const decoded = schema.decode(tableBytes(table)) as unknown as { keys: string[] };
          expect(decoded.keys).toEqual(distinct);
          distinct.forEach((key, i) => expect(table.utf8Length(i)).toBe(Buffer.byteLength(key, 'utf8')));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reports the bytes a new key adds and changes nothing until it is added', () => {
    const table = new KeyTable(TAG_PARTITION_KEY_TABLE);
    addAll(table, ['first']);
    const long = 'k'.repeat(200);
    expect(table.find(long)).toBe(1);
    expect(table.pendingBytes).toBe(1 + 2 + 200);
    expect(table.find('other')).toBe(1);
    expect(table.byteLength).toBe(1 + 1 + 5);
    table.add();
    expect(table.find('first')).toBe(0);
    expect(table.pendingBytes).toBe(0);
    expect((schema.decode(tableBytes(table)) as unknown as { keys: string[] }).keys).toEqual(['first', 'other']);
  });

  it('keeps thousands of keys, repeated or not, and starts empty after reset()', () => {
    const table = new KeyTable(TAG_PARTITION_KEY_TABLE);
    for (let round = 0; round < 3; round++) {
      const keys = Array.from({ length: 5000 }, (_, i) => `r${round}-${i % (round === 1 ? 37 : 5000)}`);
      const distinct = [...new Set(keys)];
      expect(addAll(table, [...keys, ...keys])).toEqual([...keys, ...keys].map((key) => distinct.indexOf(key)));
      expect((schema.decode(tableBytes(table)) as unknown as { keys: string[] }).keys).toEqual(distinct);
      table.reset();
      expect(table.count).toBe(0);
      expect(table.byteLength).toBe(0);
    }
  });
});
