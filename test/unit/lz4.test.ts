import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressBlock, decompressBlock } from '../../src/format/lz4.js';

describe('LZ4 blocks', () => {
  it('round-trip any bytes, with the uncompressed length in front', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        const block = compressBlock(data);
        expect(Buffer.from(block).readUInt32LE(0)).toBe(data.length);
        expect(Buffer.from(decompressBlock(block)!)).toEqual(Buffer.from(data));
      }),
      { numRuns: 200 },
    );
  });

  it('shrink repetitive JSON', () => {
    const json = Buffer.from(JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ device: 'sensor-1', reading: i % 7 }))));
    expect(compressBlock(json).length).toBeLessThan(json.length / 3);
  });

  it('return undefined for anything that is not a block, before allocating a claimed length', () => {
    expect(decompressBlock(new Uint8Array(0))).toBeUndefined();
    expect(decompressBlock(Uint8Array.of(1, 0, 0))).toBeUndefined();
    // Claims 4 GiB from 3 bytes: refused without trying.
    expect(decompressBlock(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3))).toBeUndefined();
    // Claims more than the block holds.
    const block = Uint8Array.from(compressBlock(Buffer.from('hello hello hello hello')));
    block[0] = block[0]! + 1;
    expect(decompressBlock(block)).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(() => decompressBlock(bytes)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});
