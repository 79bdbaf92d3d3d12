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
  readonly #keys: string[] = [];
  /** Keys seen more than once, by index. */
  readonly #repeated = new Map<string, number>();
  /** Key index per slot, EMPTY where none. */
  #slots = new Int32Array(INITIAL_SLOTS).fill(EMPTY);
  /** The slot of each key, so that reset() empties only the slots in use. */
  #keySlots = new Int32Array(INITIAL_SLOTS);
  /** UTF-8 length of each key. */
  #keyLengths = new Int32Array(INITIAL_SLOTS);
  #pendingSlot = 0;
  #pendingLength = 0;
  #pendingEntryBytes = 0;

  /** @param tag the protobuf tag of the table's field. */
  constructor(tag: number) {
    this.#tag = tag;
  }

  /** Distinct keys held. */
  get count(): number {
    return this.#keys.length;
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
    return this.#keys[index]!;
  }

  /** UTF-8 bytes of the key at `index`. */
  utf8Length(index: number): number {
    return this.#keyLengths[index]!;
  }

  /**
   * The index of `key`; when the table lacks it, {@link count} (the index it would take), with its
   * field written past the table's end and {@link pendingBytes} set, until {@link add} keeps it.
   */
  find(key: string): number {
    // With a key per record the Map stays empty, and asking it would cost V8 a hash of the key.
    if (this.#repeated.size > 0) {
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
    // FNV-1a over the code units, fused with writing them while they are ASCII.
    let hash = 0x811c9dc5 | 0;
    let p = start + SHORT_HEADER;
    let i = 0;
    for (; i < length; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) break;
      bytes[p++] = c;
      hash = Math.imul(hash ^ c, 0x01000193);
    }
    let utf8Length = p - start - SHORT_HEADER;
    if (i < length) {
      for (; i < length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
      utf8Length = -1;
    }
    hash ^= hash >>> 15;

    const slots = this.#slots;
    const mask = slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const index = slots[slot]!;
      if (index === EMPTY) break;
      if (this.#keys[index] === key) {
        this.#repeated.set(key, index);
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
    return this.#keys.length;
  }

  /** Keeps the key the last {@link find} did not find, at the index it returned. */
  add(key: string): void {
    const index = this.#keys.length;
    this.#keys.push(key);
    this.#slots[this.#pendingSlot] = index;
    if (index === this.#keySlots.length) this.#growKeys();
    this.#keySlots[index] = this.#pendingSlot;
    this.#keyLengths[index] = this.#pendingLength;
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
    const keySlots = this.#keySlots;
    for (let i = 0; i < this.#keys.length; i++) slots[keySlots[i]!] = EMPTY;
    this.#keys.length = 0;
    if (this.#repeated.size > 0) this.#repeated.clear();
    this.#byteLength = 0;
  }

  #growBytes(needed: number): void {
    // Outside Buffer's shared pool: a long-lived table would otherwise pin an 8 KiB pool slab.
    const grown = Buffer.allocUnsafeSlow(Math.max(needed, 2 * this.#bytes.length, MIN_BYTES));
    this.#bytes.copy(grown, 0, 0, this.#byteLength);
    this.#bytes = grown;
  }

  #growKeys(): void {
    const keySlots = new Int32Array(2 * this.#keySlots.length);
    keySlots.set(this.#keySlots);
    this.#keySlots = keySlots;
    const keyLengths = new Int32Array(2 * this.#keyLengths.length);
    keyLengths.set(this.#keyLengths);
    this.#keyLengths = keyLengths;
  }

  /** Doubles the index and places every key again: their hashes are not kept, so they are recomputed. */
  #growSlots(): void {
    const slots = new Int32Array(2 * this.#slots.length).fill(EMPTY);
    const mask = slots.length - 1;
    for (let index = 0; index < this.#keys.length; index++) {
      let slot = hashKey(this.#keys[index]!) & mask;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = index;
      this.#keySlots[index] = slot;
    }
    this.#slots = slots;
  }
}

function hashKey(key: string): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash ^ (hash >>> 15);
}
