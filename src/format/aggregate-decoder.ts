/**
 * The decoder of the KPL aggregated-record format (see aggregate-format.ts). Any malformed input is
 * "not an aggregate", as the KCL treats it.
 */
import { decompressBlock } from './lz4.js';
import { readUtf8Strings } from './utf8.js';
import {
  hasMd5Trailer,
  INITIAL_CAPACITY,
  KPL_MAGIC,
  LZ4_AGGREGATE_MAGIC,
  MAGIC_BYTES,
  MD5_BYTES,
  NO_HASH_KEY,
  TAG_DATA,
  TAG_EXPLICIT_HASH_KEY_INDEX,
  TAG_EXPLICIT_HASH_KEY_TABLE,
  TAG_PARTITION_KEY_INDEX,
  TAG_PARTITION_KEY_TABLE,
  TAG_RECORDS,
  TAG_TAG_KEY,
  TAG_TAG_VALUE,
  TAG_TAGS,
} from './aggregate-format.js';

/** An aggregate's contents, as its protobuf holds them. */
export interface DecodedAggregate {
  partitionKeys: string[];
  explicitHashKeys: string[];
  records: Array<{ partitionKeyIndex: number; explicitHashKeyIndex: number | undefined; data: Uint8Array }>;
}

/**
 * Decodes a KPL aggregate (or this library's LZ4 aggregate). Returns undefined when `data` is
 * not one: no magic, a checksum that does not match, a protobuf that does not parse, or an index
 * outside its table. Record data are views into `data` (or into the decompressed payload), not
 * copies. Never throws.
 */
export function decodeAggregatedRecord(data: Uint8Array): DecodedAggregate | undefined {
  const scan = scanAggregatedRecord(data);
  if (scan === undefined) return undefined;
  const { payload, keyIndex, hashKeyIndex, dataStart, dataEnd } = scan;
  const records = new Array<DecodedAggregate['records'][number]>(scan.count);
  for (let i = 0; i < scan.count; i++) {
    const hashIndex = hashKeyIndex[i]!;
    records[i] = {
      partitionKeyIndex: keyIndex[i]!,
      explicitHashKeyIndex: hashIndex === NO_HASH_KEY ? undefined : hashIndex,
      data: payload.subarray(dataStart[i], dataEnd[i]),
    };
  }
  return { partitionKeys: scan.partitionKeys, explicitHashKeys: scan.explicitHashKeys, records };
}

/**
 * A decoded aggregate as offsets, for readers that build their own objects (deaggregate). The
 * typed arrays are shared and overwritten by the next scan: read them before scanning again.
 */
export interface ScannedAggregate {
  partitionKeys: string[];
  explicitHashKeys: string[];
  /** Records in the aggregate; the arrays below hold this many entries. */
  count: number;
  /** The protobuf bytes, as a plain Uint8Array whose subarrays are cheap to make. */
  payload: Uint8Array;
  keyIndex: Int32Array;
  /** -1 where a record has no explicit hash key index. */
  hashKeyIndex: Int32Array;
  dataStart: Int32Array;
  dataEnd: Int32Array;
}

let scanKeyIndex: Int32Array = new Int32Array(INITIAL_CAPACITY);
let scanHashKeyIndex: Int32Array = new Int32Array(INITIAL_CAPACITY);
let scanDataStart: Int32Array = new Int32Array(INITIAL_CAPACITY);
let scanDataEnd: Int32Array = new Int32Array(INITIAL_CAPACITY);
// Where each key of the two tables lies in the protobuf: the strings are made once the scan has succeeded.
let scanPartitionKeyStart: Int32Array = new Int32Array(INITIAL_CAPACITY);
let scanPartitionKeyEnd: Int32Array = new Int32Array(INITIAL_CAPACITY);
let scanHashKeyStart: Int32Array = new Int32Array(INITIAL_CAPACITY);
let scanHashKeyEnd: Int32Array = new Int32Array(INITIAL_CAPACITY);

/** Like {@link decodeAggregatedRecord}, without an object per record. Never throws. */
export function scanAggregatedRecord(data: Uint8Array): ScannedAggregate | undefined {
  if (data.length < MAGIC_BYTES + MD5_BYTES) return undefined;
  const compressed = startsWith(data, LZ4_AGGREGATE_MAGIC);
  if (!compressed && !startsWith(data, KPL_MAGIC)) return undefined;
  if (!hasMd5Trailer(data, MAGIC_BYTES)) return undefined;
  const body = data.subarray(MAGIC_BYTES, data.length - MD5_BYTES);
  const protobuf = compressed ? decompressBlock(body) : body;
  return protobuf === undefined ? undefined : scanProtobuf(new Uint8Array(protobuf.buffer, protobuf.byteOffset, protobuf.byteLength));
}

function startsWith(data: Uint8Array, magic: Uint8Array): boolean {
  return data[0] === magic[0] && data[1] === magic[1] && data[2] === magic[2] && data[3] === magic[3];
}

/** Read position of the protobuf reader; decoding is synchronous, so one module-level cursor serves. */
let cursor = 0;
const MALFORMED = -1;
/** Indices are kept in Int32Arrays; a real table is far smaller, so a larger index is corrupt. */
const MAX_TABLE_INDEX = 0x7fffffff;
/** Field numbers stop at 2^29 - 1, so a tag is a uint32. */
const MAX_TAG = 0xffffffff;

/** Reads a varint at `cursor`; MALFORMED if it runs past `end` or past ten bytes. Values above 2^53 lose precision, which only matters for indices that are out of range anyway. */
function readVarint(bytes: Uint8Array, end: number): number {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    if (cursor >= end) return MALFORMED;
    const byte = bytes[cursor++]!;
    value += (byte & 0x7f) * multiplier;
    if (byte < 0x80) return value;
    multiplier *= 128;
  }
  return MALFORMED;
}

/** Reads a length prefix and returns the end of the field it announces, or MALFORMED. */
function readLengthDelimited(bytes: Uint8Array, end: number): number {
  const length = readVarint(bytes, end);
  if (length === MALFORMED || length > end - cursor) return MALFORMED;
  return cursor + length;
}

/** Skips a field of an unknown number; false for groups (wire types 3 and 4) and bad wire types. */
function skipField(bytes: Uint8Array, end: number, wireType: number): boolean {
  switch (wireType) {
    case 0:
      return readVarint(bytes, end) !== MALFORMED;
    case 1:
      cursor += 8;
      return cursor <= end;
    case 2: {
      const fieldEnd = readLengthDelimited(bytes, end);
      if (fieldEnd === MALFORMED) return false;
      cursor = fieldEnd;
      return true;
    }
    case 5:
      cursor += 4;
      return cursor <= end;
    default:
      return false;
  }
}

/**
 * Skips a record's Tag message (tags are not exposed), checking it as the KCL's protobuf parser
 * does: its required key must be there.
 */
function skipTag(bytes: Uint8Array, end: number): boolean {
  const tagEnd = readLengthDelimited(bytes, end);
  if (tagEnd === MALFORMED) return false;
  let hasKey = false;
  while (cursor < tagEnd) {
    const fieldTag = readVarint(bytes, tagEnd);
    if (fieldTag === TAG_TAG_KEY || fieldTag === TAG_TAG_VALUE) {
      const fieldEnd = readLengthDelimited(bytes, tagEnd);
      if (fieldEnd === MALFORMED) return false;
      cursor = fieldEnd;
      if (fieldTag === TAG_TAG_KEY) hasKey = true;
    } else if (
      fieldTag === MALFORMED ||
      fieldTag < 8 ||
      fieldTag > MAX_TAG ||
      fieldTag >>> 3 <= 2 ||
      !skipField(bytes, tagEnd, fieldTag & 7)
    ) {
      return false;
    }
  }
  return hasKey;
}

function scanProtobuf(bytes: Uint8Array): ScannedAggregate | undefined {
  let partitionKeyCount = 0;
  let hashKeyCount = 0;
  let count = 0;
  let maxKeyIndex = -1;
  let maxHashIndex = -1;
  const end = bytes.length;
  cursor = 0;
  while (cursor < end) {
    const tag = readVarint(bytes, end);
    if (tag === MALFORMED || tag < 8 || tag > MAX_TAG) return undefined;
    if (tag === TAG_PARTITION_KEY_TABLE || tag === TAG_EXPLICIT_HASH_KEY_TABLE) {
      const fieldEnd = readLengthDelimited(bytes, end);
      if (fieldEnd === MALFORMED) return undefined;
      if (tag === TAG_PARTITION_KEY_TABLE) {
        if (partitionKeyCount === scanPartitionKeyStart.length) {
          scanPartitionKeyStart = grow(scanPartitionKeyStart);
          scanPartitionKeyEnd = grow(scanPartitionKeyEnd);
        }
        scanPartitionKeyStart[partitionKeyCount] = cursor;
        scanPartitionKeyEnd[partitionKeyCount++] = fieldEnd;
      } else {
        if (hashKeyCount === scanHashKeyStart.length) {
          scanHashKeyStart = grow(scanHashKeyStart);
          scanHashKeyEnd = grow(scanHashKeyEnd);
        }
        scanHashKeyStart[hashKeyCount] = cursor;
        scanHashKeyEnd[hashKeyCount++] = fieldEnd;
      }
      cursor = fieldEnd;
    } else if (tag === TAG_RECORDS) {
      const recordEnd = readLengthDelimited(bytes, end);
      if (recordEnd === MALFORMED) return undefined;
      let keyIndex = MALFORMED;
      let hashIndex = NO_HASH_KEY;
      let dataStart = MALFORMED;
      let dataEnd = MALFORMED;
      while (cursor < recordEnd) {
        const fieldTag = readVarint(bytes, recordEnd);
        if (fieldTag === TAG_PARTITION_KEY_INDEX) {
          keyIndex = readVarint(bytes, recordEnd);
          if (keyIndex === MALFORMED) return undefined;
        } else if (fieldTag === TAG_EXPLICIT_HASH_KEY_INDEX) {
          hashIndex = readVarint(bytes, recordEnd);
          if (hashIndex === MALFORMED) return undefined;
        } else if (fieldTag === TAG_DATA) {
          dataEnd = readLengthDelimited(bytes, recordEnd);
          if (dataEnd === MALFORMED) return undefined;
          dataStart = cursor;
          cursor = dataEnd;
        } else if (fieldTag === TAG_TAGS) {
          if (!skipTag(bytes, recordEnd)) return undefined;
        } else if (
          fieldTag === MALFORMED ||
          fieldTag < 8 ||
          fieldTag > MAX_TAG ||
          fieldTag >>> 3 <= 4 ||
          !skipField(bytes, recordEnd, fieldTag & 7)
        ) {
          // Fields 1-4 with another wire type are corrupt; unknown fields are skipped.
          return undefined;
        }
      }
      // proto2 required fields: partition_key_index and data.
      if (keyIndex === MALFORMED || dataStart === MALFORMED) return undefined;
      if (keyIndex > MAX_TABLE_INDEX || hashIndex > MAX_TABLE_INDEX) return undefined;
      if (keyIndex > maxKeyIndex) maxKeyIndex = keyIndex;
      if (hashIndex > maxHashIndex) maxHashIndex = hashIndex;
      if (count === scanKeyIndex.length) {
        scanKeyIndex = grow(scanKeyIndex);
        scanHashKeyIndex = grow(scanHashKeyIndex);
        scanDataStart = grow(scanDataStart);
        scanDataEnd = grow(scanDataEnd);
      }
      scanKeyIndex[count] = keyIndex;
      scanHashKeyIndex[count] = hashIndex;
      scanDataStart[count] = dataStart;
      scanDataEnd[count] = dataEnd;
      count++;
    } else if (tag >>> 3 <= 3 || !skipField(bytes, end, tag & 7)) {
      return undefined;
    }
  }
  // The tables may follow the records in a valid protobuf, so indices are checked at the end.
  if (maxKeyIndex >= partitionKeyCount || maxHashIndex >= hashKeyCount) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    partitionKeys: readUtf8Strings(text, scanPartitionKeyStart, scanPartitionKeyEnd, partitionKeyCount),
    explicitHashKeys: readUtf8Strings(text, scanHashKeyStart, scanHashKeyEnd, hashKeyCount),
    count,
    payload: bytes,
    keyIndex: scanKeyIndex,
    hashKeyIndex: scanHashKeyIndex,
    dataStart: scanDataStart,
    dataEnd: scanDataEnd,
  };
}

function grow(array: Int32Array): Int32Array {
  const grown = new Int32Array(array.length * 2);
  grown.set(array);
  return grown;
}
