import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareHashKeys, hashKeyToDecimal, hashPartitionKey, parseHashKey, writeRecordHashKey } from '../../src/format/hash-key.js';
import { MAX_HASH_KEY } from '../../src/format/limits.js';

const MAX = (1n << 128n) - 1n;

function md5BigInt(text: string): bigint {
  return BigInt(`0x${createHash('md5').update(text, 'utf8').digest('hex')}`);
}

function wordsToBigInt(words: Uint32Array, offset: number): bigint {
  let value = 0n;
  for (let i = 0; i < 4; i++) value = (value << 32n) | BigInt(words[offset + i]!);
  return value;
}

function hashOf(text: string): bigint {
  const out = new Uint32Array(6);
  hashPartitionKey(text, out, 2);
  return wordsToBigInt(out, 2);
}

describe('hashPartitionKey', () => {
  it('is the MD5 of the UTF-8 bytes, read big-endian', () => {
    for (const key of ['a', 'partition-key-1', '1', '01', 'é', 'ключ', '分区键', '🔑 key', 'a\u0000b']) {
      expect(hashOf(key)).toBe(md5BigInt(key));
    }
    // A known vector: MD5("abc") = 900150983cd24fb0d6963f7d28e17f72.
    expect(hashOf('abc')).toBe(0x900150983cd24fb0d6963f7d28e17f72n);
  });

  it('matches node:crypto at every padding boundary and for 256-character keys', () => {
    for (let length = 0; length <= 200; length++) expect(hashOf('x'.repeat(length))).toBe(md5BigInt('x'.repeat(length)));
    for (const unit of ['x', 'é', '分', '😀']) {
      const key = unit.repeat(256 / unit.length);
      expect(key.length).toBe(256);
      expect(hashOf(key)).toBe(md5BigInt(key));
    }
  });

  it('encodes lone surrogates as U+FFFD, as Buffer does', () => {
    for (const key of ['\ud800', 'a\udc00b', '\ud83d', '\ud83d\ud83d\ude00', '\ude00\ud83d']) {
      expect(hashOf(key)).toBe(md5BigInt(key));
    }
  });

  it('stays exact through its cache: repeated keys, more keys than it holds, and while it is switched off', () => {
    const pool = Array.from({ length: 5000 }, (_, i) => `device-${i}-é`);
    const sequences = [
      Array.from({ length: 3000 }, (_, i) => pool[i % 20]!), // a few hot keys: served from the cache
      Array.from({ length: 12000 }, (_, i) => pool[i % 5000]!), // cycles past its capacity
      Array.from({ length: 30000 }, (_, i) => `unique-${i}`), // no repeats: the cache switches itself off
      Array.from({ length: 30000 }, (_, i) => pool[i % 50]!), // and back on
    ];
    const wrong = sequences.flat().filter((key) => hashOf(key) !== md5BigInt(key));
    expect(wrong).toEqual([]);
  });

  it('matches node:crypto for arbitrary strings, including longer than 256', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: 'grapheme', maxLength: 100 }),
          fc.string({ maxLength: 1000 }),
        ),
        (key) => {
          expect(hashOf(key)).toBe(md5BigInt(key));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('parseHashKey', () => {
  it('accepts 0, 2^128 - 1 and leading zeros', () => {
    const out = new Uint32Array(4);
    expect(parseHashKey('0', out, 0)).toBe(true);
    expect([...out]).toEqual([0, 0, 0, 0]);
    expect(parseHashKey(MAX_HASH_KEY, out, 0)).toBe(true);
    expect([...out]).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    expect(parseHashKey(`000000000000${MAX_HASH_KEY}`, out, 0)).toBe(true);
    expect(wordsToBigInt(out, 0)).toBe(MAX);
    expect(parseHashKey('0000000000000000000000000000000000000000000000000000000001', out, 0)).toBe(true);
    expect(wordsToBigInt(out, 0)).toBe(1n);
  });

  it('rejects anything but a decimal integer in [0, 2^128 - 1], leaving out untouched', () => {
    const out = Uint32Array.of(7, 7, 7, 7);
    for (const bad of [
      '',
      '-1',
      '+1',
      ' 1',
      '1 ',
      '1.0',
      '1e3',
      '0x10',
      'abc',
      '١٢٣',
      (MAX + 1n).toString(),
      (MAX * 10n).toString(),
      '9'.repeat(100),
    ]) {
      expect(parseHashKey(bad, out, 0), bad).toBe(false);
    }
    expect([...out]).toEqual([7, 7, 7, 7]);
  });

  it('agrees with BigInt on any value, with or without leading zeros', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), fc.nat({ max: 5 }), fc.nat({ max: 7 }), (value, zeros, offset) => {
        const out = new Uint32Array(12);
        expect(parseHashKey('0'.repeat(zeros) + value.toString(), out, offset)).toBe(true);
        expect(wordsToBigInt(out, offset)).toBe(value);
        expect(hashKeyToDecimal(out, offset)).toBe(value.toString());
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects every value above 2^128 - 1', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MAX + 1n, max: MAX << 64n }), (value) => {
        expect(parseHashKey(value.toString(), new Uint32Array(4), 0)).toBe(false);
      }),
    );
  });
});

describe('compareHashKeys', () => {
  it('orders as the 128-bit integers do', () => {
    const words = (value: bigint): Uint32Array => {
      const out = new Uint32Array(4);
      parseHashKey(value.toString(), out, 0);
      return out;
    };
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), fc.bigInt({ min: 0n, max: MAX }), (a, b) => {
        expect(Math.sign(compareHashKeys(words(a), 0, words(b), 0))).toBe(a < b ? -1 : a > b ? 1 : 0);
        expect(compareHashKeys(words(a), 0, words(a), 0)).toBe(0);
      }),
    );
    const pair = Uint32Array.of(0, 0, 0, 5, 0, 0, 1, 0);
    expect(compareHashKeys(pair, 0, pair, 4)).toBeLessThan(0);
    expect(compareHashKeys(pair, 4, pair, 0)).toBeGreaterThan(0);
  });
});

describe('writeRecordHashKey', () => {
  it('writes the explicit hash key when a record has one, else the MD5 of its partition key', () => {
    const out = new Uint32Array(8);
    writeRecordHashKey({ partitionKey: 'k', explicitHashKey: '1' }, out, 0);
    writeRecordHashKey({ partitionKey: 'k' }, out, 4);
    expect(hashKeyToDecimal(out, 0)).toBe('1');
    expect(hashKeyToDecimal(out, 4)).toBe(BigInt(`0x${createHash('md5').update('k').digest('hex')}`).toString());
  });
});
