/**
 * One key table of an aggregate (its partition keys, or its explicit hash keys): distinct strings,
 * zero-indexed in order of first use, kept as the protobuf bytes the aggregate will hold.
 *
 * A key is written as a length-delimited field the moment it is first seen, in the same pass that
 * hashes it for de-duplication and measures its UTF-8 length, so the finished aggregate gets the
 * whole table in one copy. De-duplication has two levels, because keys come in two patterns:
 * - a key per record (random ids): each key is looked up once and never again. Those go only into
 *   an open-addressing index over that hash, since a Map insert (and its regrowth after every
 *   clear) cost more than writing the key (BENCHMARKS.md, Codec, has the figures);
 * - a bounded set of keys (device ids) repeating: hashing every occurrence again would cost more
 *   than a Map lookup, which reuses the hash V8 keeps in the string. A key found a second time in
 *   the index is therefore also put in a Map, which answers its later occurrences.
 */
import { varintLength } from './varint.js';
import { writeUtf8 } from './utf8.js';

const EMPTY = -1;
/** Small: a producer may keep a builder, with two tables, for each of thousands of shards, and most never see an explicit hash key. */
const INITIAL_SLOTS = 16;
const MIN_BYTES = 256;
/** A field's tag and, for keys under 128 UTF-8 bytes (nearly all), its one-byte length. */
const SHORT_HEADER = 2;

/** An aggregate's table of distinct keys, as protobuf fields; reused from aggregate to aggregate. */
export class KeyTable {
  readonly #tag: number;
  #bytes = Buffer.allocUnsafeSlow(0);
  #byteLength = 0;
  /**
   * The keys, in index order; slots past {@link count} are emptied by reset() but kept, so that the
   * next aggregate's keys reuse the same memory instead of regrowing it.
   */
  readonly #keys: Array<string | undefined> = [];
  #count = 0;
  /** Keys seen more than once, by index; made at the first repeat, so that key-per-record tables never touch one. */
  #repeated: Map<string, number> | undefined;
  /** Key index per slot, EMPTY where none. */
  #slots = new Int32Array(INITIAL_SLOTS).fill(EMPTY);
  /**
   * Per key, two entries side by side: its slot (so that reset() empties only the slots in use) and
   * its UTF-8 length. One array instead of two: with thousands of shards every table is cold, and
   * each array a record touches costs a cache miss.
   */
  #keyInfo = new Int32Array(2 * INITIAL_SLOTS);
  #pendingSlot = 0;
  #pendingLength = 0;
  #pendingEntryBytes = 0;

  /** @param tag the protobuf tag of the table's field. */
  constructor(tag: number) {
    this.#tag = tag;
  }

  /** Distinct keys held. */
  get count(): number {
    return this.#count;
  }

  /** Bytes of the table's fields: tags, lengths and keys. */
  get byteLength(): number {
    return this.#byteLength;
  }

  /**
   * Bytes the key passed to the last {@link find} adds to the table when it is {@link add}ed:
   * 0 when it was already there.
   */
  get pendingBytes(): number {
    return this.#pendingEntryBytes;
  }

  /** The key at `index`. */
  key(index: number): string {
    return this.#keys[index] as string;
  }

  /** UTF-8 bytes of the key at `index`. */
  utf8Length(index: number): number {
    return this.#keyInfo[2 * index + 1]!;
  }

  /**
   * The index of `key`; when the table lacks it, {@link count} (the index it would take), with its
   * field written past the table's end and {@link pendingBytes} set, until {@link add} keeps it.
   */
  find(key: string): number {
    // With a key per record there is no Map, and asking one would cost V8 a hash of the key.
    if (this.#repeated !== undefined && this.#repeated.size > 0) {
      const repeated = this.#repeated.get(key);
      if (repeated !== undefined) {
        this.#pendingEntryBytes = 0;
        return repeated;
      }
    }
    const length = key.length;
    // A UTF-16 code unit takes at most three UTF-8 bytes; a length of 128 or more takes two bytes.
    const start = this.#byteLength;
    if (this.#bytes.length < start + SHORT_HEADER + 1 + 3 * length) this.#growBytes(start + SHORT_HEADER + 1 + 3 * length);
    const bytes = this.#bytes;
    // The hash, fused with writing the code units as bytes: the UTF-8 when all are ASCII, rewritten below otherwise.
    let hash = 0;
    let ascii = 0;
    let p = start + SHORT_HEADER;
    let i = 0;
    for (const whole = length & ~3; i < whole; i += 4) {
      const c0 = key.charCodeAt(i);
      const c1 = key.charCodeAt(i + 1);
      const c2 = key.charCodeAt(i + 2);
      const c3 = key.charCodeAt(i + 3);
      ascii |= c0 | c1 | c2 | c3;
      bytes[p] = c0;
      bytes[p + 1] = c1;
      bytes[p + 2] = c2;
      bytes[p + 3] = c3;
      p += 4;
      hash = Math.imul(hash ^ c0 ^ (c1 << 8) ^ (c2 << 16) ^ (c3 << 24), HASH_MULTIPLIER);
    }
    let tail = 0;
    for (; i < length; i++) {
      const c = key.charCodeAt(i);
      ascii |= c;
      bytes[p++] = c;
      tail ^= c << ((i & 3) << 3);
    }
    hash = finishHash(hash, tail, length);
    let utf8Length = ascii < 0x80 ? length : -1;

    const slots = this.#slots;
    const mask = slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const index = slots[slot]!;
      if (index === EMPTY) break;
      if (this.#keys[index] === key) {
        (this.#repeated ??= new Map()).set(key, index);
        this.#pendingEntryBytes = 0;
        return index;
      }
      slot = (slot + 1) & mask;
    }

    if (utf8Length < 0) {
      utf8Length = Buffer.byteLength(key, 'utf8');
      writeUtf8(key, utf8Length, bytes, start + SHORT_HEADER);
    }
    if (utf8Length >= 0x80) bytes.copyWithin(start + SHORT_HEADER + 1, start + SHORT_HEADER, start + SHORT_HEADER + utf8Length);
    bytes[start] = this.#tag;
    bytes[start + 1] = utf8Length >= 0x80 ? (utf8Length & 0x7f) | 0x80 : utf8Length;
    if (utf8Length >= 0x80) bytes[start + 2] = utf8Length >>> 7;
    this.#pendingSlot = slot;
    this.#pendingLength = utf8Length;
    this.#pendingEntryBytes = 1 + varintLength(utf8Length) + utf8Length;
    return this.#count;
  }

  /** Keeps the key the last {@link find} did not find, at the index it returned. */
  add(key: string): void {
    const index = this.#count++;
    if (index === this.#keys.length) this.#keys.push(key);
    else this.#keys[index] = key;
    this.#slots[this.#pendingSlot] = index;
    if (2 * index === this.#keyInfo.length) this.#growKeyInfo();
    this.#keyInfo[2 * index] = this.#pendingSlot;
    this.#keyInfo[2 * index + 1] = this.#pendingLength;
    this.#byteLength += this.#pendingEntryBytes;
    // Under half full, so that a probe meets an empty slot soon.
    if (2 * (index + 1) > this.#slots.length) this.#growSlots();
  }

  /** Copies the table's fields into `out` at `position`; returns the position after them. */
  copyTo(out: Uint8Array, position: number): number {
    out.set(this.#bytes.subarray(0, this.#byteLength), position);
    return position + this.#byteLength;
  }

  /** Empties the table, keeping its memory for the next aggregate. */
  reset(): void {
    const slots = this.#slots;
    const keyInfo = this.#keyInfo;
    const keys = this.#keys;
    for (let i = 0; i < this.#count; i++) {
      slots[keyInfo[2 * i]!] = EMPTY;
      // Released, so that a table does not keep the last aggregate's keys alive.
      keys[i] = undefined;
    }
    this.#count = 0;
    if (this.#repeated !== undefined && this.#repeated.size > 0) this.#repeated.clear();
    this.#byteLength = 0;
  }

  #growBytes(needed: number): void {
    // Outside Buffer's shared pool: a long-lived table would otherwise pin an 8 KiB pool slab.
    const grown = Buffer.allocUnsafeSlow(Math.max(needed, 2 * this.#bytes.length, MIN_BYTES));
    this.#bytes.copy(grown, 0, 0, this.#byteLength);
    this.#bytes = grown;
  }

  #growKeyInfo(): void {
    const keyInfo = new Int32Array(2 * this.#keyInfo.length);
    keyInfo.set(this.#keyInfo);
    this.#keyInfo = keyInfo;
  }

  /** Doubles the index and places every key again: their hashes are not kept, so they are recomputed. */
  #growSlots(): void {
    const slots = new Int32Array(2 * this.#slots.length).fill(EMPTY);
    const mask = slots.length - 1;
    for (let index = 0; index < this.#count; index++) {
      let slot = hashKey(this.#keys[index] as string) & mask;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = index;
      this.#keyInfo[2 * index] = slot;
    }
    this.#slots = slots;
  }
}

/** Odd, with its bits spread: each step's multiply carries every bit of the word into higher ones. */
const HASH_MULTIPLIER = 0x9e3779b1 | 0;

/**
 * A hash of the UTF-16 code units, four to a step: a chain of 36 multiplies (one per character)
 * took longer than writing the key. Equal strings hash alike, whatever their representation.
 */
function hashKey(key: string): number {
  const length = key.length;
  let hash = 0;
  let i = 0;
  for (const whole = length & ~3; i < whole; i += 4) {
    hash = Math.imul(hash ^ key.charCodeAt(i) ^ (key.charCodeAt(i + 1) << 8) ^ (key.charCodeAt(i + 2) << 16) ^ (key.charCodeAt(i + 3) << 24), HASH_MULTIPLIER);
  }
  let tail = 0;
  for (; i < length; i++) tail ^= key.charCodeAt(i) << ((i & 3) << 3);
  return finishHash(hash, tail, length);
}

/** Folds in the last (partial) word and the length, then mixes high bits into the low ones the index uses (MurmurHash3's finaliser). */
function finishHash(hash: number, tail: number, length: number): number {
  let h = Math.imul(hash ^ tail, HASH_MULTIPLIER) ^ length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
