/**
 * The KPL aggregated-record format, shared by its encoder and its decoder:
 *
 *   F3 89 9A C2 | protobuf AggregatedRecord (proto/kpl.proto) | MD5 of the protobuf bytes (16)
 *
 * The protobuf is written by hand, in canonical field order (partition key table, explicit hash
 * key table, records), so that the size of the finished record is known exactly while records
 * are added and encoding is one pass into one exact-size buffer. Decoding is hand-written too and
 * treats any malformed input as "not an aggregate", as the KCL does.
 */
import * as crypto from 'node:crypto';

/** The first four bytes of a KPL aggregated record. */
export const KPL_MAGIC: Uint8Array = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);

/**
 * The first four bytes of an LZ4-compressed aggregate, this library's own extension:
 *
 *   F5 4C 5A 34 | uint32 LE length of the protobuf | LZ4 block of the protobuf | MD5 of the bytes between magic and MD5
 *
 * 0xF5 never occurs in valid UTF-8, so no text or JSON record can start with it, and it differs
 * from the KPL magic, so a KCL consumer sees such a record as plain data instead of misreading
 * it. "LZ4" follows in ASCII for anyone reading a hex dump. Only `deaggregate()` in this package
 * reads it, which is why compression is off by default.
 */
export const LZ4_AGGREGATE_MAGIC: Uint8Array = Uint8Array.of(0xf5, 0x4c, 0x5a, 0x34);

/** The partition key an aggregate of more than one record is sent with; its ExplicitHashKey picks the shard. */
export const AGGREGATE_PARTITION_KEY = 'a';

export const MAGIC_BYTES = 4;
export const MD5_BYTES = 16;

// Protobuf tags: field number << 3 | wire type (0 varint, 2 length-delimited).
export const TAG_PARTITION_KEY_TABLE = (1 << 3) | 2;
export const TAG_EXPLICIT_HASH_KEY_TABLE = (2 << 3) | 2;
export const TAG_RECORDS = (3 << 3) | 2;
export const TAG_PARTITION_KEY_INDEX = (1 << 3) | 0;
export const TAG_EXPLICIT_HASH_KEY_INDEX = (2 << 3) | 0;
export const TAG_DATA = (3 << 3) | 2;
export const TAG_TAGS = (4 << 3) | 2;
export const TAG_TAG_KEY = (1 << 3) | 2;
export const TAG_TAG_VALUE = (2 << 3) | 2;

/** A record's explicit hash key index when it has none. */
export const NO_HASH_KEY = -1;
/** Records a builder or a scan has room for before its arrays first grow. */
export const INITIAL_CAPACITY = 64;

/**
 * One MD5 per aggregate, natively; `crypto.hash` (Node >= 20.12) skips the Hash object. The digest
 * comes back as 16 one-byte characters ('binary' is latin1): a Buffer result would need a backing
 * store of its own, which cost more than hashing a small aggregate (1.6 us of 4.5 for 800 bytes here).
 */
const md5Latin1: (data: Uint8Array) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('md5', data, 'binary')
    : (data) => crypto.createHash('md5').update(data).digest('binary');

/** Writes the MD5 of `bytes[start..end)` at `end`. */
export function writeMd5Trailer(bytes: Uint8Array, start: number, end: number): void {
  const digest = md5Latin1(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start));
  for (let i = 0; i < MD5_BYTES; i++) bytes[end + i] = digest.charCodeAt(i);
}

/** Whether the last 16 bytes of `bytes` are the MD5 of those between `start` and them. */
export function hasMd5Trailer(bytes: Uint8Array, start: number): boolean {
  const end = bytes.length - MD5_BYTES;
  const digest = md5Latin1(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start));
  for (let i = 0; i < MD5_BYTES; i++) if (digest.charCodeAt(i) !== bytes[end + i]) return false;
  return true;
}
