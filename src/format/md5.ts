/**
 * MD5 of a string's UTF-8 bytes, in plain JavaScript, written as four big-endian 32-bit words.
 *
 * Why not node:crypto: a partition key is hashed once per user record, and for short keys the
 * cost of crossing into C++ (and of allocating a Hash object or a result buffer) dominates.
 * bench/codec.ts measures this file against `crypto.hash` and `createHash`; see BENCHMARKS.md.
 * The message is encoded straight into a reused word buffer: no allocation per call.
 */

/** Room for a 256-code-unit key (at most 768 UTF-8 bytes) plus padding; grown for longer strings. */
let words = new Int32Array(16 * 13);

/**
 * Writes MD5(UTF-8 bytes of `text`) into `out[offset..offset+3]`, most significant word first, so
 * that the four words read as the big-endian 128-bit integer Kinesis derives from a partition key.
 * Lone surrogates are encoded as U+FFFD, as TextEncoder and Buffer do.
 */
export function md5Utf8(text: string, out: Uint32Array, offset: number): void {
  const maxBytes = text.length * 3;
  const wordsNeeded = (((maxBytes + 8) >>> 6) + 1) << 4;
  if (words.length < wordsNeeded) words = new Int32Array(wordsNeeded);
  const w = words;
  let p = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      p = putByte(w, p, c);
      continue;
    }
    if (c < 0x800) {
      p = putByte(w, p, 0xc0 | (c >>> 6));
      p = putByte(w, p, 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        p = putByte(w, p, 0xf0 | (c >>> 18));
        p = putByte(w, p, 0x80 | ((c >>> 12) & 0x3f));
        p = putByte(w, p, 0x80 | ((c >>> 6) & 0x3f));
        p = putByte(w, p, 0x80 | (c & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    p = putByte(w, p, 0xe0 | (c >>> 12));
    p = putByte(w, p, 0x80 | ((c >>> 6) & 0x3f));
    p = putByte(w, p, 0x80 | (c & 0x3f));
  }
  const byteLength = p;
  p = putByte(w, p, 0x80);
  const blocks = ((byteLength + 8) >>> 6) + 1;
  const lengthWord = (blocks << 4) - 2;
  for (let i = (p + 3) >>> 2; i < lengthWord; i++) w[i] = 0;
  w[lengthWord] = byteLength << 3;
  w[lengthWord + 1] = Math.floor(byteLength / 0x20000000);
  md5Blocks(w, blocks, out, offset);
}

function putByte(w: Int32Array, p: number, byte: number): number {
  const shift = (p & 3) << 3;
  if (shift === 0) w[p >>> 2] = byte;
  else w[p >>> 2]! |= byte << shift;
  return p + 1;
}

function md5Blocks(w: Int32Array, blocks: number, out: Uint32Array, offset: number): void {
  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  for (let i = 0; i < blocks << 4; i += 16) {
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    a = ff(a, b, c, d, w[i + 0]!, 7, -680876936);
    d = ff(d, a, b, c, w[i + 1]!, 12, -389564586);
    c = ff(c, d, a, b, w[i + 2]!, 17, 606105819);
    b = ff(b, c, d, a, w[i + 3]!, 22, -1044525330);
    a = ff(a, b, c, d, w[i + 4]!, 7, -176418897);
    d = ff(d, a, b, c, w[i + 5]!, 12, 1200080426);
    c = ff(c, d, a, b, w[i + 6]!, 17, -1473231341);
    b = ff(b, c, d, a, w[i + 7]!, 22, -45705983);
    a = ff(a, b, c, d, w[i + 8]!, 7, 1770035416);
    d = ff(d, a, b, c, w[i + 9]!, 12, -1958414417);
    c = ff(c, d, a, b, w[i + 10]!, 17, -42063);
    b = ff(b, c, d, a, w[i + 11]!, 22, -1990404162);
    a = ff(a, b, c, d, w[i + 12]!, 7, 1804603682);
    d = ff(d, a, b, c, w[i + 13]!, 12, -40341101);
    c = ff(c, d, a, b, w[i + 14]!, 17, -1502002290);
    b = ff(b, c, d, a, w[i + 15]!, 22, 1236535329);
    a = gg(a, b, c, d, w[i + 1]!, 5, -165796510);
    d = gg(d, a, b, c, w[i + 6]!, 9, -1069501632);
    c = gg(c, d, a, b, w[i + 11]!, 14, 643717713);
    b = gg(b, c, d, a, w[i + 0]!, 20, -373897302);
    a = gg(a, b, c, d, w[i + 5]!, 5, -701558691);
    d = gg(d, a, b, c, w[i + 10]!, 9, 38016083);
    c = gg(c, d, a, b, w[i + 15]!, 14, -660478335);
    b = gg(b, c, d, a, w[i + 4]!, 20, -405537848);
    a = gg(a, b, c, d, w[i + 9]!, 5, 568446438);
    d = gg(d, a, b, c, w[i + 14]!, 9, -1019803690);
    c = gg(c, d, a, b, w[i + 3]!, 14, -187363961);
    b = gg(b, c, d, a, w[i + 8]!, 20, 1163531501);
    a = gg(a, b, c, d, w[i + 13]!, 5, -1444681467);
    d = gg(d, a, b, c, w[i + 2]!, 9, -51403784);
    c = gg(c, d, a, b, w[i + 7]!, 14, 1735328473);
    b = gg(b, c, d, a, w[i + 12]!, 20, -1926607734);
    a = hh(a, b, c, d, w[i + 5]!, 4, -378558);
    d = hh(d, a, b, c, w[i + 8]!, 11, -2022574463);
    c = hh(c, d, a, b, w[i + 11]!, 16, 1839030562);
    b = hh(b, c, d, a, w[i + 14]!, 23, -35309556);
    a = hh(a, b, c, d, w[i + 1]!, 4, -1530992060);
    d = hh(d, a, b, c, w[i + 4]!, 11, 1272893353);
    c = hh(c, d, a, b, w[i + 7]!, 16, -155497632);
    b = hh(b, c, d, a, w[i + 10]!, 23, -1094730640);
    a = hh(a, b, c, d, w[i + 13]!, 4, 681279174);
    d = hh(d, a, b, c, w[i + 0]!, 11, -358537222);
    c = hh(c, d, a, b, w[i + 3]!, 16, -722521979);
    b = hh(b, c, d, a, w[i + 6]!, 23, 76029189);
    a = hh(a, b, c, d, w[i + 9]!, 4, -640364487);
    d = hh(d, a, b, c, w[i + 12]!, 11, -421815835);
    c = hh(c, d, a, b, w[i + 15]!, 16, 530742520);
    b = hh(b, c, d, a, w[i + 2]!, 23, -995338651);
    a = ii(a, b, c, d, w[i + 0]!, 6, -198630844);
    d = ii(d, a, b, c, w[i + 7]!, 10, 1126891415);
    c = ii(c, d, a, b, w[i + 14]!, 15, -1416354905);
    b = ii(b, c, d, a, w[i + 5]!, 21, -57434055);
    a = ii(a, b, c, d, w[i + 12]!, 6, 1700485571);
    d = ii(d, a, b, c, w[i + 3]!, 10, -1894986606);
    c = ii(c, d, a, b, w[i + 10]!, 15, -1051523);
    b = ii(b, c, d, a, w[i + 1]!, 21, -2054922799);
    a = ii(a, b, c, d, w[i + 8]!, 6, 1873313359);
    d = ii(d, a, b, c, w[i + 15]!, 10, -30611744);
    c = ii(c, d, a, b, w[i + 6]!, 15, -1560198380);
    b = ii(b, c, d, a, w[i + 13]!, 21, 1309151649);
    a = ii(a, b, c, d, w[i + 4]!, 6, -145523070);
    d = ii(d, a, b, c, w[i + 11]!, 10, -1120210379);
    c = ii(c, d, a, b, w[i + 2]!, 15, 718787259);
    b = ii(b, c, d, a, w[i + 9]!, 21, -343485551);

    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  out[offset] = byteSwap(a0);
  out[offset + 1] = byteSwap(b0);
  out[offset + 2] = byteSwap(c0);
  out[offset + 3] = byteSwap(d0);
}

function byteSwap(x: number): number {
  return ((x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

function ff(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  const n = (a + ((b & c) | (~b & d)) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}

function gg(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  const n = (a + ((b & d) | (c & ~d)) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}

function hh(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  const n = (a + (b ^ c ^ d) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}

function ii(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  const n = (a + (c ^ (b | ~d)) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}
