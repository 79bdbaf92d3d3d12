/**
 * The largest index `cut` in (`start`, `limit`] at which `bytes` may be cut without splitting a
 * UTF-8 character: the byte at `cut` does not continue a character. When every byte after `start`
 * up to `limit` continues one (invalid UTF-8, or a character begun before `start`), `limit` itself.
 */
export function utf8Cut(bytes: Uint8Array, start: number, limit: number): number {
  let cut = limit;
  // A character is at most 4 bytes, so at most 3 continuation bytes need stepping back over.
  while (cut > start && limit - cut < 4 && cut < bytes.length && ((bytes[cut] as number) & 0xc0) === 0x80) cut--;
  return cut > start && (cut === bytes.length || ((bytes[cut] as number) & 0xc0) !== 0x80) ? cut : limit;
}
