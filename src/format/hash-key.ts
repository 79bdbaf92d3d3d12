/**
 * Kinesis hash keys: unsigned 128-bit integers, held as four uint32 words, most significant
 * first, in a Uint32Array at an offset. Callers keep many keys in one array (a shard map's
 * ranges, an aggregator's pending records) and the per-record paths allocate nothing and never
 * touch BigInt; comparing four words is several times faster than comparing BigInts.
 */
import { md5Utf8 } from './md5.js';

/** Words per hash key in a Uint32Array. */
export const HASH_KEY_WORDS = 4;

/**
 * Recently hashed partition keys and their hash keys. Producers often reuse a bounded set of keys
 * (device ids, customer ids), and a Map lookup costs a fraction of an MD5. When the set fills up it
 * is emptied and refilled, so it follows the keys in use. When keys do not repeat (one random id
 * per record) the lookups only add cost, so a window that finds too few hits switches the cache
 * off for a while, then it tries again.
 */
const CACHE_CAPACITY = 4096;
const cacheSlots = new Map<string, number>();
const cacheWords = new Uint32Array(CACHE_CAPACITY * HASH_KEY_WORDS);
let cacheFilled = 0;
const PROBE_WINDOW = 1024;
/** Below one hit in four lookups, the cache costs more than it saves. */
const MIN_HITS_PER_WINDOW = PROBE_WINDOW / 4;
/** Probing costs a miss a Map lookup and insert; 1 call in 65 probing keeps that near 1 % of an MD5. */
const BYPASS_CALLS = 64 * PROBE_WINDOW;
let windowCalls = 0;
let windowHits = 0;
let bypassCalls = 0;

/**
 * Writes the hash key Kinesis derives from a partition key: MD5 of its UTF-8 bytes, read as a
 * big-endian 128-bit integer.
 */
export function hashPartitionKey(partitionKey: string, out: Uint32Array, offset: number): void {
  if (bypassCalls > 0) {
    bypassCalls--;
    md5Utf8(partitionKey, out, offset);
    return;
  }
  const slot = cacheSlots.get(partitionKey);
  if (slot === undefined) {
    md5Utf8(partitionKey, out, offset);
    if (cacheFilled === CACHE_CAPACITY) {
      cacheSlots.clear();
      cacheFilled = 0;
    }
    const base = cacheFilled * HASH_KEY_WORDS;
    cacheWords[base] = out[offset]!;
    cacheWords[base + 1] = out[offset + 1]!;
    cacheWords[base + 2] = out[offset + 2]!;
    cacheWords[base + 3] = out[offset + 3]!;
    cacheSlots.set(partitionKey, cacheFilled++);
  } else {
    const base = slot * HASH_KEY_WORDS;
    out[offset] = cacheWords[base]!;
    out[offset + 1] = cacheWords[base + 1]!;
    out[offset + 2] = cacheWords[base + 2]!;
    out[offset + 3] = cacheWords[base + 3]!;
    windowHits++;
  }
  if (++windowCalls === PROBE_WINDOW) {
    if (windowHits < MIN_HITS_PER_WINDOW) bypassCalls = BYPASS_CALLS;
    windowCalls = 0;
    windowHits = 0;
  }
}

const TWO_POW_32 = 0x1_0000_0000;
/** Digits consumed per step: 10^6 < 2^21, so word * 10^6 + carry stays an exact double. */
const DIGITS_PER_STEP = 6;

/**
 * Parses a decimal hash key (an explicit hash key, or a shard's range bound) into `out` at
 * `offset`. Returns false, leaving `out` untouched, unless `decimal` is one or more ASCII digits
 * whose value is at most 2^128 - 1. Leading zeros are allowed, as Kinesis allows them.
 */
export function parseHashKey(decimal: string, out: Uint32Array, offset: number): boolean {
  const length = decimal.length;
  if (length === 0) return false;
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  let i = 0;
  let stepEnd = length % DIGITS_PER_STEP || DIGITS_PER_STEP;
  while (i < length) {
    let chunk = 0;
    let multiplier = 1;
    for (; i < stepEnd; i++) {
      const digit = decimal.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return false;
      chunk = chunk * 10 + digit;
      multiplier *= 10;
    }
    let x = w3 * multiplier + chunk;
    w3 = x >>> 0;
    let carry = (x - w3) / TWO_POW_32;
    x = w2 * multiplier + carry;
    w2 = x >>> 0;
    carry = (x - w2) / TWO_POW_32;
    x = w1 * multiplier + carry;
    w1 = x >>> 0;
    carry = (x - w1) / TWO_POW_32;
    x = w0 * multiplier + carry;
    w0 = x >>> 0;
    if (x !== w0) return false;
    stepEnd += DIGITS_PER_STEP;
  }
  out[offset] = w0;
  out[offset + 1] = w1;
  out[offset + 2] = w2;
  out[offset + 3] = w3;
  return true;
}

/**
 * The decimal form of the hash key at `offset`, without leading zeros, as Kinesis expects an
 * ExplicitHashKey. Uses BigInt: it runs once per aggregate or per shard-map load, not per record.
 */
export function hashKeyToDecimal(words: Uint32Array, offset: number): string {
  const value =
    (BigInt(words[offset]!) << 96n) |
    (BigInt(words[offset + 1]!) << 64n) |
    (BigInt(words[offset + 2]!) << 32n) |
    BigInt(words[offset + 3]!);
  return value.toString();
}

/** Orders two hash keys: negative if a < b, zero if equal, positive if a > b. */
export function compareHashKeys(a: Uint32Array, aOffset: number, b: Uint32Array, bOffset: number): number {
  for (let i = 0; i < HASH_KEY_WORDS; i++) {
    const x = a[aOffset + i]!;
    const y = b[bOffset + i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Writes a validated record's 128-bit hash key: its explicit hash key, or the MD5 of its partition key. */
export function writeRecordHashKey(
  record: { readonly partitionKey: string; readonly explicitHashKey?: string | undefined },
  out: Uint32Array,
  offset: number,
): void {
  if (record.explicitHashKey !== undefined) parseHashKey(record.explicitHashKey, out, offset);
  else hashPartitionKey(record.partitionKey, out, offset);
}
