/** Slots of the cache; a power of two. */
const SLOTS = 4096;
/** Longest key cached, in bytes; longer ones are decoded each time. */
const MAX_CACHED_BYTES = 64;

/**
 * Decodes short UTF-8 strings (partition keys) through a direct-mapped cache, so that a key seen
 * before comes back as the same string instead of a new one. Keys repeat (device, host, user),
 * and a record's key lives as long as the record is buffered: a new string per record is garbage
 * the collector has to copy and promote. The same string also keeps its hash, which the
 * producer's key table would otherwise compute again. Memory is fixed: 4,096 slots of 64 bytes.
 */
export class KeyInterner {
  readonly #slab = Buffer.alloc(SLOTS * MAX_CACHED_BYTES);
  readonly #lengths = new Int16Array(SLOTS).fill(-1);
  readonly #strings: Array<string | undefined> = new Array<string | undefined>(SLOTS).fill(undefined);

  /** `bytes[start, end)` decoded as UTF-8: the cached string when the same bytes were decoded before. */
  decode(bytes: Buffer, start: number, end: number): string {
    const length = end - start;
    if (length > MAX_CACHED_BYTES) return bytes.toString('utf8', start, end);
    // FNV-1a over the bytes.
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
    const slot = (hash >>> 0) & (SLOTS - 1);
    const slab = this.#slab;
    const at = slot * MAX_CACHED_BYTES;
    if (this.#lengths[slot] === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (slab[at + i] !== bytes[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#strings[slot] as string;
    }
    const text = bytes.toString('utf8', start, end);
    bytes.copy(slab, at, start, end);
    this.#lengths[slot] = length;
    this.#strings[slot] = text;
    return text;
  }
}
