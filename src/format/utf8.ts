import { isAscii } from 'node:buffer';

/**
 * UTF-8 helpers for the codec's hot paths. They agree byte for byte with TextEncoder and
 * Buffer: a lone surrogate becomes U+FFFD (three bytes). Short strings (typical partition keys)
 * are handled in JavaScript, which beats a call into C++ below about 16 characters.
 */

/** Longest string measured or written in JavaScript; beyond it the native routines are faster. */
const SHORT_STRING = 16;

/** The number of bytes `text` takes in UTF-8. */
export function utf8Length(text: string): number {
  const length = text.length;
  if (length > SHORT_STRING) return Buffer.byteLength(text, 'utf8');
  let bytes = length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // Two code units, four bytes.
        i++;
        bytes += 2;
        continue;
      }
    }
    bytes += 2;
  }
  return bytes;
}

/**
 * Writes `text`, whose UTF-8 length is `byteLength`, as UTF-8 into `out` at `position` and returns
 * the position after it. An ASCII string (byteLength equal to its length) is written as Latin-1:
 * the same bytes, and natively about twice as fast as the UTF-8 encoder.
 */
export function writeUtf8(text: string, byteLength: number, out: Buffer, position: number): number {
  const length = text.length;
  if (length > SHORT_STRING) return position + out.write(text, position, byteLength === length ? 'latin1' : 'utf8');
  return encodeUtf8(text, 0, out, position);
}

/**
 * Writes `text` from code unit `from` on as UTF-8 into `out` at `position`, in JavaScript, and
 * returns the position after it; `out` must have room for three bytes a code unit.
 */
export function encodeUtf8(text: string, from: number, out: Uint8Array, position: number): number {
  const length = text.length;
  let p = position;
  for (let i = from; i < length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
      continue;
    }
    if (c < 0x800) {
      out[p++] = 0xc0 | (c >>> 6);
      out[p++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out[p++] = 0xf0 | (c >>> 18);
        out[p++] = 0x80 | ((c >>> 12) & 0x3f);
        out[p++] = 0x80 | ((c >>> 6) & 0x3f);
        out[p++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    out[p++] = 0xe0 | (c >>> 12);
    out[p++] = 0x80 | ((c >>> 6) & 0x3f);
    out[p++] = 0x80 | (c & 0x3f);
  }
  return p;
}

/** A protobuf field's tag (one byte for the fields a key table uses) and its length (a varint of up to five bytes). */
const MAX_FIELD_HEADER = 6;

/** Up to this many bytes, building an ASCII string in JavaScript beats the native decoder (measured: 4 bytes 2x faster, 12 bytes 1.7x slower). */
const SHORT_DECODE = 8;

/**
 * Buffer's own UTF-8 decoder, which toString('utf8', start, end) calls after checking its
 * arguments and looking up the encoding: for a 36-byte key those steps cost more than the
 * decoding. Every Node release has it, undocumented; toString() stands in otherwise.
 */
interface BufferNativeDecoder {
  utf8Slice?: (start: number, end: number) => string;
  latin1Slice?: (start: number, end: number) => string;
}
const hasUtf8Slice = typeof (Buffer.prototype as BufferNativeDecoder).utf8Slice === 'function';
const hasLatin1Slice = typeof (Buffer.prototype as BufferNativeDecoder).latin1Slice === 'function';

/**
 * Decodes `bytes[start..end)` as UTF-8; invalid sequences become U+FFFD, as protobuf decoders do.
 * Very short ASCII strings are built in JavaScript, which is cheaper than a call into the native
 * decoder.
 */
export function readUtf8(bytes: Buffer, start: number, end: number): string {
  if (end - start <= SHORT_DECODE) {
    let text = '';
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x80) return decodeNatively(bytes, start, end);
      text += String.fromCharCode(c);
    }
    return text;
  }
  return decodeNatively(bytes, start, end);
}

function decodeNatively(bytes: Buffer, start: number, end: number): string {
  return hasUtf8Slice ? (bytes as BufferNativeDecoder).utf8Slice!(start, end) : bytes.toString('utf8', start, end);
}

/**
 * Decodes the `count` strings at `bytes[starts[i]..ends[i])`, which lie in increasing order (the
 * keys of an aggregate's table), as {@link readUtf8} would one by one.
 *
 * When every byte from the first string to the last is ASCII (the usual case, checked in one
 * native call), each string is decoded as latin1, which skips UTF-8 validation. Each one is a copy:
 * cutting them all from one decoded stretch would be faster, but V8 makes such a cut a view that
 * keeps the whole stretch alive, so a consumer keeping one key per aggregate (a last-seen-device
 * cache) would keep every key table: 140 MB for 10,000 kept keys of 14 KB tables, against 0.6 MB.
 */
export function readUtf8Strings(bytes: Buffer, starts: Int32Array, ends: Int32Array, count: number): string[] {
  const strings = new Array<string>(count);
  if (count === 0) return strings;
  const first = starts[0]!;
  const last = ends[count - 1]!;
  let stringBytes = 0;
  for (let i = 0; i < count; i++) stringBytes += ends[i]! - starts[i]!;
  if (count > 1 && hasLatin1Slice && last - first - stringBytes <= MAX_FIELD_HEADER * (count - 1) && isAscii(bytes.subarray(first, last))) {
    const decoder = bytes as BufferNativeDecoder;
    for (let i = 0; i < count; i++) strings[i] = decoder.latin1Slice!(starts[i]!, ends[i]!);
    return strings;
  }
  for (let i = 0; i < count; i++) strings[i] = readUtf8(bytes, starts[i]!, ends[i]!);
  return strings;
}
