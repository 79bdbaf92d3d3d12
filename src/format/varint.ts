/** Protobuf base-128 varints for the non-negative integers the codec writes (below 2^32). */

/** Bytes the varint encoding of `value` takes. */
export function varintLength(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Writes `value` as a varint into `out` at `position` and returns the position after it. */
export function writeVarint(value: number, out: Uint8Array, position: number): number {
  let v = value >>> 0;
  let p = position;
  while (v >= 0x80) {
    out[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[p++] = v;
  return p;
}
