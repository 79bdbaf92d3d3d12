/**
 * The KPL aggregated-record format: many user records in one Kinesis record.
 *
 *   F3 89 9A C2 | protobuf AggregatedRecord (proto/kpl.proto) | MD5 of the protobuf bytes (16)
 *
 * The protobuf is written by hand, in canonical field order (partition key table, explicit hash
 * key table, records), so that the size of the finished record is known exactly while records
 * are added and encoding is one pass into one exact-size buffer. Decoding is hand-written too and
 * treats any malformed input as "not an aggregate", as the KCL does.
 */
import * as crypto from 'node:crypto';
import { hashKeyToDecimal } from './hash-key.js';
import { MAX_RECORD_BYTES } from './limits.js';
import { compressBlock, decompressBlock } from './lz4.js';
import { KeyTable } from './key-table.js';
import { readUtf8Strings } from './utf8.js';
import { varintLength, writeVarint } from './varint.js';

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

/** A Kinesis record ready for PutRecords. */
export interface KinesisRecord {
  partitionKey: string;
  explicitHashKey: string | undefined;
  data: Uint8Array;
}

/** Options of {@link AggregateBuilder} and {@link encodeAggregatedRecord}. */
export interface AggregateOptions {
  /** 'lz4' compresses the protobuf payload when that makes the record smaller. @default 'none' */
  compression?: 'none' | 'lz4' | undefined;
  /**
   * Where the encoded aggregate's bytes come from, e.g. a pool the caller returns them to once they
   * are sent. @default Buffer.allocUnsafe
   */
  allocate?: ((size: number) => Buffer) | undefined;
}

const MAGIC_BYTES = 4;
const MD5_BYTES = 16;
/** Bytes of an aggregate beyond its protobuf, as Kinesis counts them: magic, MD5 and the partition key 'a'. */
const AGGREGATE_OVERHEAD = MAGIC_BYTES + MD5_BYTES + AGGREGATE_PARTITION_KEY.length;

// Protobuf tags: field number << 3 | wire type (0 varint, 2 length-delimited).
const TAG_PARTITION_KEY_TABLE = (1 << 3) | 2;
const TAG_EXPLICIT_HASH_KEY_TABLE = (2 << 3) | 2;
const TAG_RECORDS = (3 << 3) | 2;
const TAG_PARTITION_KEY_INDEX = (1 << 3) | 0;
const TAG_EXPLICIT_HASH_KEY_INDEX = (2 << 3) | 0;
const TAG_DATA = (3 << 3) | 2;
const TAG_TAGS = (4 << 3) | 2;
const TAG_TAG_KEY = (1 << 3) | 2;
const TAG_TAG_VALUE = (2 << 3) | 2;

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
function writeMd5Trailer(bytes: Uint8Array, start: number, end: number): void {
  const digest = md5Latin1(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start));
  for (let i = 0; i < MD5_BYTES; i++) bytes[end + i] = digest.charCodeAt(i);
}

/** Whether the last 16 bytes of `bytes` are the MD5 of those between `start` and them. */
function hasMd5Trailer(bytes: Uint8Array, start: number): boolean {
  const end = bytes.length - MD5_BYTES;
  const digest = md5Latin1(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start));
  for (let i = 0; i < MD5_BYTES; i++) if (digest.charCodeAt(i) !== bytes[end + i]) return false;
  return true;
}

const NO_HASH_KEY = -1;
/** What a builder's emptied record slots hold, so that they keep no caller's data alive. */
const EMPTY_DATA = new Uint8Array(0);
const INITIAL_CAPACITY = 64;

/** The protobuf payload of an lz4 aggregate is encoded here before compression; shared, since encoding is synchronous. */
let scratch = Buffer.allocUnsafe(0);

let appendRecord: (builder: AggregateBuilder, partitionKey: string, explicitHashKey: string | undefined, data: Uint8Array) => void;
let encodeAggregate: (builder: AggregateBuilder) => Uint8Array;

/**
 * Collects user records for one Kinesis record and encodes them. It keeps, per record, only two
 * table indices and a reference to the data; the size of the finished record is kept exactly as
 * records are added, so "does the next one fit?" never needs a trial encode. One builder is
 * reused for aggregate after aggregate.
 */
export class AggregateBuilder {
  readonly #compression: 'none' | 'lz4';
  readonly #allocate: (size: number) => Buffer;
  #count = 0;
  /** Bytes of the protobuf AggregatedRecord holding every record added so far. */
  #protobufLength = 0;

  readonly #partitionKeys = new KeyTable(TAG_PARTITION_KEY_TABLE);
  readonly #explicitHashKeys = new KeyTable(TAG_EXPLICIT_HASH_KEY_TABLE);

  /**
   * Per record, its partition key's index and its explicit hash key's index (NO_HASH_KEY if none),
   * side by side: one array to touch per record instead of two, which matters when thousands of
   * shards' builders take turns and each one is cold in the cache.
   */
  #recordIndices = new Int32Array(2 * INITIAL_CAPACITY);
  #recordData: Uint8Array[] = [];
  /** The first record's keys, as given: a builder of one record sends it plain, with them. */
  #firstPartitionKey = '';
  #firstExplicitHashKey: string | undefined;

  static {
    appendRecord = (builder, partitionKey, explicitHashKey, data) =>
      builder.#append(partitionKey, explicitHashKey, data, Infinity);
    encodeAggregate = (builder) => builder.#encodeAggregate();
  }

  constructor(options?: AggregateOptions) {
    this.#compression = options?.compression ?? 'none';
    this.#allocate = options?.allocate ?? Buffer.allocUnsafe;
  }

  /** User records held. */
  get count(): number {
    return this.#count;
  }

  /**
   * What Kinesis will count for the finished record: its data bytes plus its partition key's
   * UTF-8 bytes. For one record, the plain record (its data and its own key); for more, the
   * aggregate (magic, protobuf, MD5, and the key 'a'), before any compression. Exact.
   */
  get size(): number {
    if (this.#count === 0) return 0;
    if (this.#count === 1) return this.#recordData[0]!.length + this.#partitionKeys.utf8Length(0);
    return AGGREGATE_OVERHEAD + this.#protobufLength;
  }

  /**
   * Adds the record unless the aggregate would then be larger than `maxBytes` (or than the 1 MiB
   * Kinesis accepts); then it returns false and changes nothing. The first record is always
   * accepted: the caller has validated it against the 1 MiB limit, and alone it is sent plain.
   * `data` is kept by reference, not copied, until finish().
   */
  tryAdd(partitionKey: string, explicitHashKey: string | undefined, data: Uint8Array, maxBytes: number): boolean {
    return this.#append(partitionKey, explicitHashKey, data, Math.min(maxBytes, MAX_RECORD_BYTES));
  }

  #append(partitionKey: string, explicitHashKey: string | undefined, data: Uint8Array, maxBytes: number): boolean {
    const partitionKeys = this.#partitionKeys;
    const keyIndex = partitionKeys.find(partitionKey);
    let added = partitionKeys.pendingBytes;
    let hashIndex = NO_HASH_KEY;
    if (explicitHashKey !== undefined) {
      hashIndex = this.#explicitHashKeys.find(explicitHashKey);
      added += this.#explicitHashKeys.pendingBytes;
    }
    const recordLength = recordMessageLength(keyIndex, hashIndex, data.length);
    added += 1 + varintLength(recordLength) + recordLength;
    if (this.#count > 0 && AGGREGATE_OVERHEAD + this.#protobufLength + added > maxBytes) return false;

    if (keyIndex === partitionKeys.count) partitionKeys.add();
    if (hashIndex === this.#explicitHashKeys.count) this.#explicitHashKeys.add();
    const n = this.#count;
    if (n === 0) {
      this.#firstPartitionKey = partitionKey;
      this.#firstExplicitHashKey = explicitHashKey;
    }
    if (2 * n === this.#recordIndices.length) this.#grow();
    this.#recordIndices[2 * n] = keyIndex;
    this.#recordIndices[2 * n + 1] = hashIndex;
    if (n === this.#recordData.length) this.#recordData.push(data);
    else this.#recordData[n] = data;
    this.#count = n + 1;
    this.#protobufLength += added;
    return true;
  }

  #grow(): void {
    const indices = new Int32Array(this.#recordIndices.length * 2);
    indices.set(this.#recordIndices);
    this.#recordIndices = indices;
  }

  /**
   * Encodes what the builder holds into one Kinesis record and resets it for reuse.
   *
   * One record: the plain record, with its own partition key, explicit hash key and data (an
   * explicit hash key with leading zeros is sent in canonical form, from `firstHashKey`).
   * More: the aggregate, with partition key 'a' and ExplicitHashKey set to `firstHashKey` (the
   * first record's hash key), so it lands on the shard the records were predicted for. With
   * compression 'lz4' the protobuf is compressed when that makes the record smaller.
   *
   * @throws RangeError when the builder is empty.
   */
  finish(firstHashKey: Uint32Array, firstHashKeyOffset: number): KinesisRecord {
    if (this.#count === 0) throw new RangeError('AggregateBuilder.finish() needs at least one record');
    let record: KinesisRecord;
    if (this.#count === 1) {
      let explicitHashKey = this.#firstExplicitHashKey;
      // PutRecords accepts only 0|[1-9]\d{0,38}: a key given with leading zeros goes out canonical.
      if (explicitHashKey !== undefined && explicitHashKey.length > 1 && explicitHashKey.charCodeAt(0) === 48) {
        explicitHashKey = hashKeyToDecimal(firstHashKey, firstHashKeyOffset);
      }
      record = { partitionKey: this.#firstPartitionKey, explicitHashKey, data: this.#recordData[0]! };
    } else {
      record = {
        partitionKey: AGGREGATE_PARTITION_KEY,
        explicitHashKey: hashKeyToDecimal(firstHashKey, firstHashKeyOffset),
        data: this.#encodeAggregate(),
      };
    }
    this.reset();
    return record;
  }

  /** Drops every record held (releasing the data references), as finish() does, without encoding. */
  reset(): void {
    // The data references are cleared rather than the array shortened, so that its memory serves
    // the next aggregate instead of being regrown.
    const recordData = this.#recordData;
    for (let i = 0; i < this.#count; i++) recordData[i] = EMPTY_DATA;
    this.#count = 0;
    this.#protobufLength = 0;
    this.#firstPartitionKey = '';
    this.#firstExplicitHashKey = undefined;
    this.#partitionKeys.reset();
    this.#explicitHashKeys.reset();
  }

  #encodeAggregate(): Uint8Array {
    const protobufLength = this.#protobufLength;
    if (this.#compression === 'lz4') {
      if (scratch.length < protobufLength) scratch = Buffer.allocUnsafe(Math.max(protobufLength, scratch.length * 2));
      const protobuf = scratch.subarray(0, protobufLength);
      this.#writeProtobuf(protobuf, 0);
      const compressed = compressBlock(protobuf);
      if (compressed.length < protobufLength) return frame(LZ4_AGGREGATE_MAGIC, compressed, this.#allocate);
      return frame(KPL_MAGIC, protobuf, this.#allocate);
    }
    const out = this.#allocate(MAGIC_BYTES + protobufLength + MD5_BYTES);
    out.set(KPL_MAGIC, 0);
    const end = this.#writeProtobuf(out, MAGIC_BYTES);
    writeMd5Trailer(out, MAGIC_BYTES, end);
    return out;
  }

  #writeProtobuf(out: Buffer, position: number): number {
    let p = this.#partitionKeys.copyTo(out, position);
    p = this.#explicitHashKeys.copyTo(out, p);
    const recordIndices = this.#recordIndices;
    const recordData = this.#recordData;
    for (let i = 0; i < this.#count; i++) {
      const keyIndex = recordIndices[2 * i]!;
      const hashIndex = recordIndices[2 * i + 1]!;
      const data = recordData[i]!;
      out[p++] = TAG_RECORDS;
      p = writeVarint(recordMessageLength(keyIndex, hashIndex, data.length), out, p);
      out[p++] = TAG_PARTITION_KEY_INDEX;
      p = writeVarint(keyIndex, out, p);
      if (hashIndex !== NO_HASH_KEY) {
        out[p++] = TAG_EXPLICIT_HASH_KEY_INDEX;
        p = writeVarint(hashIndex, out, p);
      }
      out[p++] = TAG_DATA;
      p = writeVarint(data.length, out, p);
      out.set(data, p);
      p += data.length;
    }
    return p;
  }
}

/**
 * Bytes an aggregate's protobuf grows by when a record is added whose partition key
 * (`partitionKeyLength` characters) and explicit hash key (`explicitHashKeyLength` characters, -1
 * for none) are new to its tables and take one byte a character in UTF-8: exactly what
 * {@link AggregateBuilder.tryAdd} counts for such a record, and more than it counts for a key
 * already there. `count` records are there already, `explicitHashKeys` of them with an explicit
 * hash key.
 */
export function newRecordBytes(partitionKeyLength: number, explicitHashKeyLength: number, dataLength: number,
  count: number, explicitHashKeys: number): number {
  let added = 1 + varintLength(partitionKeyLength) + partitionKeyLength;
  let hashIndex = NO_HASH_KEY;
  if (explicitHashKeyLength >= 0) {
    added += 1 + varintLength(explicitHashKeyLength) + explicitHashKeyLength;
    hashIndex = explicitHashKeys;
  }
  const recordLength = recordMessageLength(count, hashIndex, dataLength);
  return added + 1 + varintLength(recordLength) + recordLength;
}

/** What Kinesis counts for an aggregate whose protobuf is `protobufLength` bytes: magic, protobuf, MD5 and the partition key. */
export function aggregateSize(protobufLength: number): number {
  return AGGREGATE_OVERHEAD + protobufLength;
}

function recordMessageLength(keyIndex: number, hashIndex: number, dataLength: number): number {
  let length = 1 + varintLength(keyIndex) + 1 + varintLength(dataLength) + dataLength;
  if (hashIndex !== NO_HASH_KEY) length += 1 + varintLength(hashIndex);
  return length;
}

/** magic | body | MD5(body), in one exact-size buffer. */
function frame(magic: Uint8Array, body: Uint8Array, allocate: (size: number) => Buffer): Uint8Array {
  const out = allocate(MAGIC_BYTES + body.length + MD5_BYTES);
  out.set(magic, 0);
  out.set(body, MAGIC_BYTES);
  writeMd5Trailer(out, MAGIC_BYTES, MAGIC_BYTES + body.length);
  return out;
}

/**
 * Encodes records into the aggregated form, whatever their number (even one or none), for tests
 * and tools. No size limit applies.
 */
export function encodeAggregatedRecord(
  records: ReadonlyArray<{ partitionKey: string; explicitHashKey?: string | undefined; data: Uint8Array }>,
  options?: AggregateOptions,
): Uint8Array {
  const builder = new AggregateBuilder(options);
  for (const record of records) appendRecord(builder, record.partitionKey, record.explicitHashKey, record.data);
  return encodeAggregate(builder);
}

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
  const records: DecodedAggregate['records'] = new Array(scan.count);
  for (let i = 0; i < scan.count; i++) {
    const hashIndex = hashKeyIndex[i]!;
    records[i] = {
      partitionKeyIndex: keyIndex[i]!,
      explicitHashKeyIndex: hashIndex === NO_HASH_KEY ? undefined : hashIndex,
      data: payload.subarray(dataStart[i]!, dataEnd[i]!),
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
    } else if (fieldTag === MALFORMED || fieldTag < 8 || fieldTag > MAX_TAG || (fieldTag >>> 3) <= 2 || !skipField(bytes, tagEnd, fieldTag & 7)) {
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
        } else if (fieldTag === MALFORMED || fieldTag < 8 || fieldTag > MAX_TAG || (fieldTag >>> 3) <= 4 || !skipField(bytes, recordEnd, fieldTag & 7)) {
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
    } else if ((tag >>> 3) <= 3 || !skipField(bytes, end, tag & 7)) {
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
