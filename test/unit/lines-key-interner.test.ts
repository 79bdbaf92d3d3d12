import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyInterner } from '../../src/cli/lines/key-interner.js';

describe('KeyInterner', () => {
  it('decodes the same bytes to the same string, and any bytes as toString does', () => {
    const keys = new KeyInterner();
    const bytes = Buffer.from('xx device-0042 yy');
    expect(keys.decode(bytes, 3, 14)).toBe('device-0042');
    expect(keys.decode(Buffer.from('device-0042'), 0, 11)).toBe('device-0042');
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 80 }), { maxLength: 50 }), (texts) => {
        for (const text of [...texts, ...texts]) {
          const encoded = Buffer.from(`<${text}>`);
          expect(keys.decode(encoded, 1, encoded.length - 1)).toBe(text);
        }
      }),
    );
  });
});
