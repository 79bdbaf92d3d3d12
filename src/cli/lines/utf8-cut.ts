/**
 * The largest index `cut` in [`start`, `limit`] at which `bytes` may be cut without splitting a
 * UTF-8 character: the byte at `cut` does not continue a character (or `cut` is the end). When
 * there is none within a character's length of `limit` (invalid UTF-8), `limit` itself.
 */
export function utf8Cut(bytes: Uint8Array, start: number, limit: number): number {
  if (limit >= bytes.length) return limit;
  // A character is at most 4 bytes, so at most 3 continuation bytes need stepping back over.
  for (let cut = limit; cut >= start && limit - cut < 4; cut--) if (!isContinuation(bytes[cut] as number)) return cut;
  return limit;
}

/** Whether `byte` continues a UTF-8 character (10xxxxxx) rather than starting one. */
export function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
