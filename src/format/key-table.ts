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
/** Per key, in the index array after the slots: its slot, where its UTF-8 bytes start in the table, their length, and its hash. */
const KEY_INFO = 4;
const INFO_SLOT = 0;
const INFO_START = 1;
const INFO_LENGTH = 2;
const INFO_HASH = 3;

/**
 * An aggregate's table of distinct keys, as protobuf fields; reused from aggregate to aggregate.
 *
 * Keys are told apart by their UTF-8 bytes, the form they take in the aggregate, and the table
 * keeps no array of key strings (only the Map of repeated keys holds some): each object a lookup
 * touches is a cache miss when the table is cold. So everything but the bytes lives in one
 * Int32Array: the open-addressing slots, then {@link KEY_INFO} entries a key.
 */
export class KeyTable {
  readonly #tag: number;
  #bytes = Buffer.allocUnsafeSlow(0);
  #byteLength = 0;
  #count = 0;
  /** Keys seen more than once, by index; made at the first repeat, so that key-per-record tables never touch one. */
  #repeated: Map<string, number> | undefined;
  #slotCount = INITIAL_SLOTS;
  /** Key index per slot (EMPTY where none), then the keys' entries; room for slotCount / 2 keys. */
  #index = newIndex(INITIAL_SLOTS);
  #pendingSlot = 0;
  #pendingLength = 0;
  #pendingHash = 0;
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

  /** UTF-8 bytes of the key at `index`. */
  utf8Length(index: number): number {
    return this.#index[this.#slotCount + KEY_INFO * index + INFO_LENGTH]!;
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
    // The hash of the UTF-8 bytes, fused with writing them while the key is ASCII (nearly always).
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
    let utf8Length = length;
    if (ascii < 0x80) {
      hash = finishHash(hash, tail, length);
    } else {
      utf8Length = Buffer.byteLength(key, 'utf8');
      writeUtf8(key, utf8Length, bytes, start + SHORT_HEADER);
      hash = hashBytes(bytes, start + SHORT_HEADER, utf8Length);
    }

    const index = this.#index;
    const slotCount = this.#slotCount;
    const mask = slotCount - 1;
    let slot = hash & mask;
    for (;;) {
      const found = index[slot]!;
      if (found === EMPTY) break;
      const info = slotCount + KEY_INFO * found;
      if (
        index[info + INFO_HASH] === hash &&
        index[info + INFO_LENGTH] === utf8Length &&
        sameBytes(bytes, index[info + INFO_START]!, start + SHORT_HEADER, utf8Length)
      ) {
        (this.#repeated ??= new Map()).set(key, found);
        this.#pendingEntryBytes = 0;
        return found;
      }
      slot = (slot + 1) & mask;
    }

    if (utf8Length >= 0x80) bytes.copyWithin(start + SHORT_HEADER + 1, start + SHORT_HEADER, start + SHORT_HEADER + utf8Length);
    bytes[start] = this.#tag;
    bytes[start + 1] = utf8Length >= 0x80 ? (utf8Length & 0x7f) | 0x80 : utf8Length;
    if (utf8Length >= 0x80) bytes[start + 2] = utf8Length >>> 7;
    this.#pendingSlot = slot;
    this.#pendingLength = utf8Length;
    this.#pendingHash = hash;
    this.#pendingEntryBytes = 1 + varintLength(utf8Length) + utf8Length;
    return this.#count;
  }

  /** Keeps the key the last {@link find} did not find, at the index it returned. */
  add(): void {
    const index = this.#count++;
    // Under half full, so that a probe meets an empty slot soon; this also leaves room for the key's entry.
    if (2 * (index + 1) > this.#slotCount) this.#growIndex();
    const entries = this.#index;
    const info = this.#slotCount + KEY_INFO * index;
    entries[this.#pendingSlot] = index;
    entries[info + INFO_SLOT] = this.#pendingSlot;
    entries[info + INFO_START] = this.#byteLength + 1 + varintLength(this.#pendingLength);
    entries[info + INFO_LENGTH] = this.#pendingLength;
    entries[info + INFO_HASH] = this.#pendingHash;
    this.#byteLength += this.#pendingEntryBytes;
  }

  /** Copies the table's fields into `out` at `position`; returns the position after them. */
  copyTo(out: Uint8Array, position: number): number {
    // An empty table, as most explicit hash key tables are, costs no view object.
    if (this.#byteLength > 0) out.set(this.#bytes.subarray(0, this.#byteLength), position);
    return position + this.#byteLength;
  }

  /** Empties the table, keeping its memory for the next aggregate. */
  reset(): void {
    const entries = this.#index;
    const slotCount = this.#slotCount;
    for (let i = 0; i < this.#count; i++) entries[entries[slotCount + KEY_INFO * i + INFO_SLOT]!] = EMPTY;
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

  /**
   * Doubles the slots, and the room for keys with them, placing every key held again by the hash
   * kept in its entry. Called by add() before the new key's slot is filled: that slot is found
   * again in the new slots.
   */
  #growIndex(): void {
    const oldEntries = this.#index;
    const oldSlotCount = this.#slotCount;
    const slotCount = 2 * oldSlotCount;
    const entries = newIndex(slotCount);
    const mask = slotCount - 1;
    const held = this.#count - 1;
    for (let key = 0; key < held; key++) {
      const from = oldSlotCount + KEY_INFO * key;
      const to = slotCount + KEY_INFO * key;
      let slot = oldEntries[from + INFO_HASH]! & mask;
      while (entries[slot] !== EMPTY) slot = (slot + 1) & mask;
      entries[slot] = key;
      entries[to + INFO_SLOT] = slot;
      entries[to + INFO_START] = oldEntries[from + INFO_START]!;
      entries[to + INFO_LENGTH] = oldEntries[from + INFO_LENGTH]!;
      entries[to + INFO_HASH] = oldEntries[from + INFO_HASH]!;
    }
    let slot = this.#pendingHash & mask;
    while (entries[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.#pendingSlot = slot;
    this.#index = entries;
    this.#slotCount = slotCount;
  }
}

/** Slots, all EMPTY, followed by room for the entries of slotCount / 2 keys. */
function newIndex(slotCount: number): Int32Array {
  const index = new Int32Array(slotCount + KEY_INFO * (slotCount >>> 1));
  index.fill(EMPTY, 0, slotCount);
  return index;
}

function sameBytes(bytes: Uint8Array, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** Odd, with its bits spread: each step's multiply carries every bit of the word into higher ones. */
const HASH_MULTIPLIER = 0x9e3779b1 | 0;

/**
 * The same hash as find() computes while writing an ASCII key, over UTF-8 bytes: four to a step,
 * since a chain of 36 multiplies (one per character) took longer than writing the key.
 */
function hashBytes(bytes: Uint8Array, start: number, length: number): number {
  let hash = 0;
  let i = 0;
  for (const whole = length & ~3; i < whole; i += 4) {
    const at = start + i;
    hash = Math.imul(hash ^ bytes[at]! ^ (bytes[at + 1]! << 8) ^ (bytes[at + 2]! << 16) ^ (bytes[at + 3]! << 24), HASH_MULTIPLIER);
  }
  let tail = 0;
  for (; i < length; i++) tail ^= bytes[start + i]! << ((i & 3) << 3);
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
