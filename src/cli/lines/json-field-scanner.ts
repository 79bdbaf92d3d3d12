import { KeyInterner } from './key-interner.js';

/** Nesting deeper than this is left to JSON.parse, so the scanner's recursion stays shallow. */
const MAX_SCAN_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Checks that bytes hold one JSON document and reads one field of it, without building the
 * document as JSON.parse does: one pass over the bytes, no allocation but the field's value. It
 * agrees with `JSON.parse` on which documents are valid and on the field's value; a field whose
 * key has escapes on the path, or nesting deeper than 64, is left to `JSON.parse`.
 */
export class JsonFieldScanner {
  readonly #path: readonly Buffer[];
  readonly #names: readonly string[];
  /** The field's values repeat (it is a partition key): decoded through a cache. */
  readonly #keys = new KeyInterner();
  #bytes: Buffer = Buffer.alloc(0);
  #pos = 0;
  #end = 0;
  /** The scan met something it leaves to JSON.parse. */
  #unsure = false;
  /**
   * After {@link scan}: the value at the path as a string (numbers and booleans as `String()` gives
   * them), or undefined when the path is missing or holds null, an object or an array.
   */
  value: string | undefined;

  /** @param path the field's keys from the top-level object down, e.g. `['meta', 'device']`; empty: validation only. */
  constructor(path: readonly string[]) {
    this.#names = path;
    this.#path = path.map((name) => Buffer.from(name, 'utf8'));
  }

  /** Whether `bytes[start, end)` is one JSON document (whitespace around it allowed); sets {@link value}. */
  scan(bytes: Buffer, start: number, end: number): boolean {
    this.#bytes = bytes;
    this.#pos = start;
    this.#end = end;
    this.#unsure = false;
    this.value = undefined;
    this.#whitespace();
    let valid = this.#value(this.#path.length === 0 ? -1 : 0, 0);
    if (valid) {
      this.#whitespace();
      valid = this.#pos === end;
    }
    if (this.#unsure) return this.#parse(bytes.toString('utf8', start, end));
    return valid;
  }

  #parse(text: string): boolean {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.value = undefined;
      return false;
    }
    for (const name of this.#names)
      value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
    this.value = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    return true;
  }

  #whitespace(): void {
    const bytes = this.#bytes;
    let pos = this.#pos;
    while (pos < this.#end) {
      const c = bytes[pos] as number;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
    this.#pos = pos;
  }

  /**
   * One value at #pos. `matched`: how many path keys lead here (-1: off the path); at the path's
   * length this value is the field.
   */
  #value(matched: number, depth: number): boolean {
    if (this.#pos >= this.#end) return false;
    const c = this.#bytes[this.#pos] as number;
    const isField = matched === this.#path.length;
    if (c === QUOTE) {
      const start = this.#pos + 1;
      const escaped = this.#string();
      if (escaped < 0) return false;
      if (isField) {
        this.value =
          escaped === 0
            ? this.#keys.decode(this.#bytes, start, this.#pos - 1)
            : (JSON.parse(`"${this.#bytes.toString('utf8', start, this.#pos - 1)}"`) as string);
      }
      return true;
    }
    if (c === 0x7b) {
      if (depth >= MAX_SCAN_DEPTH) return this.#giveUp();
      return this.#object(isField ? -1 : matched, depth + 1);
    }
    if (c === 0x5b) {
      if (depth >= MAX_SCAN_DEPTH) return this.#giveUp();
      return this.#array(depth + 1);
    }
    if (c === 0x74) return this.#literal('true', isField);
    if (c === 0x66) return this.#literal('false', isField);
    if (c === 0x6e) return this.#literal('null', false);
    const start = this.#pos;
    if (!this.#number()) return false;
    if (isField) this.value = String(Number(this.#bytes.toString('latin1', start, this.#pos)));
    return true;
  }

  #giveUp(): boolean {
    this.#unsure = true;
    return false;
  }

  #object(matched: number, depth: number): boolean {
    const bytes = this.#bytes;
    this.#pos++;
    this.#whitespace();
    if (this.#pos < this.#end && bytes[this.#pos] === 0x7d) {
      this.#pos++;
      return true;
    }
    for (;;) {
      if (this.#pos >= this.#end || bytes[this.#pos] !== QUOTE) return false;
      const keyStart = this.#pos + 1;
      const escaped = this.#string();
      if (escaped < 0) return false;
      let childMatched = -1;
      if (matched >= 0) {
        if (escaped > 0) return this.#giveUp();
        if (this.#keyIs(keyStart, this.#pos - 1, this.#path[matched] as Buffer)) {
          childMatched = matched + 1;
          // A later duplicate key replaces the earlier value, as in JSON.parse.
          this.value = undefined;
        }
      }
      this.#whitespace();
      if (this.#pos >= this.#end || bytes[this.#pos] !== 0x3a) return false;
      this.#pos++;
      this.#whitespace();
      if (!this.#value(childMatched, depth)) return false;
      this.#whitespace();
      if (this.#pos >= this.#end) return false;
      const next = bytes[this.#pos++];
      if (next === 0x7d) return true;
      if (next !== 0x2c) return false;
      this.#whitespace();
    }
  }

  #array(depth: number): boolean {
    const bytes = this.#bytes;
    this.#pos++;
    this.#whitespace();
    if (this.#pos < this.#end && bytes[this.#pos] === 0x5d) {
      this.#pos++;
      return true;
    }
    for (;;) {
      if (!this.#value(-1, depth)) return false;
      this.#whitespace();
      if (this.#pos >= this.#end) return false;
      const next = bytes[this.#pos++];
      if (next === 0x5d) return true;
      if (next !== 0x2c) return false;
      this.#whitespace();
    }
  }

  #keyIs(start: number, end: number, name: Buffer): boolean {
    if (end - start !== name.length) return false;
    const bytes = this.#bytes;
    for (let i = 0; i < name.length; i++) if (bytes[start + i] !== name[i]) return false;
    return true;
  }

  /** A string at #pos; moves past its closing quote. Returns -1 if invalid, 1 if it has escapes, else 0. */
  #string(): number {
    const bytes = this.#bytes;
    const end = this.#end;
    let pos = this.#pos + 1;
    let escaped = 0;
    while (pos < end) {
      const c = bytes[pos] as number;
      if (c === QUOTE) {
        this.#pos = pos + 1;
        return escaped;
      }
      if (c < 0x20) return -1;
      if (c === BACKSLASH) {
        escaped = 1;
        const e = bytes[pos + 1];
        if (e === 0x75) {
          if (pos + 6 > end) return -1;
          for (let i = pos + 2; i < pos + 6; i++) if (!isHexDigit(bytes[i] as number)) return -1;
          pos += 6;
          continue;
        }
        if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
        pos += 2;
        continue;
      }
      pos++;
    }
    return -1;
  }

  #literal(word: string, isField: boolean): boolean {
    const bytes = this.#bytes;
    const pos = this.#pos;
    if (pos + word.length > this.#end) return false;
    for (let i = 0; i < word.length; i++) if (bytes[pos + i] !== word.charCodeAt(i)) return false;
    this.#pos = pos + word.length;
    if (isField) this.value = word;
    return true;
  }

  /** A number by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  #number(): boolean {
    const bytes = this.#bytes;
    const end = this.#end;
    let pos = this.#pos;
    if (bytes[pos] === 0x2d) pos++;
    if (pos >= end) return false;
    if (bytes[pos] === 0x30) pos++;
    else if (isDigit(bytes[pos])) while (pos < end && isDigit(bytes[pos])) pos++;
    else return false;
    if (pos < end && bytes[pos] === 0x2e) {
      pos++;
      if (!(pos < end && isDigit(bytes[pos]))) return false;
      while (pos < end && isDigit(bytes[pos])) pos++;
    }
    if (pos < end && (bytes[pos] === 0x65 || bytes[pos] === 0x45)) {
      pos++;
      if (pos < end && (bytes[pos] === 0x2b || bytes[pos] === 0x2d)) pos++;
      if (!(pos < end && isDigit(bytes[pos]))) return false;
      while (pos < end && isDigit(bytes[pos])) pos++;
    }
    this.#pos = pos;
    return true;
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
