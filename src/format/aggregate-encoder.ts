/**
 * The encoder of the KPL aggregated-record format (see aggregate-format.ts): packs user records into
 * one Kinesis record, knowing its exact size as records are added.
 */
import { hashKeyToDecimal } from './hash-key.js';
import { MAX_RECORD_BYTES } from './limits.js';
import { compressBlock } from './lz4.js';
import { KeyTable } from './key-table.js';
import { varintLength, writeVarint } from './varint.js';
import {
  AGGREGATE_PARTITION_KEY,
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
  writeMd5Trailer,
} from './aggregate-format.js';

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

/** Bytes of an aggregate beyond its protobuf, as Kinesis counts them: magic, MD5 and the partition key 'a'. */
const AGGREGATE_OVERHEAD = MAGIC_BYTES + MD5_BYTES + AGGREGATE_PARTITION_KEY.length;

/** What a builder's emptied record slots hold, so that they keep no caller's data alive. */
const EMPTY_DATA = new Uint8Array(0);
const allocateUnsafe = (size: number): Buffer => Buffer.allocUnsafe(size);

/** The protobuf payload of an lz4 aggregate is encoded here before compression; shared, since encoding is synchronous. */
let scratch = Buffer.allocUnsafe(0);

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

  constructor(options?: AggregateOptions) {
    this.#compression = options?.compression ?? 'none';
    this.#allocate = options?.allocate ?? allocateUnsafe;
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

  /** Adds the record whatever the size then is, for tests and tools that encode any aggregate. */
  addUnbounded(partitionKey: string, explicitHashKey: string | undefined, data: Uint8Array): void {
    this.#append(partitionKey, explicitHashKey, data, Infinity);
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
        data: this.encodeAggregate(),
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

  /**
   * Encodes what the builder holds in the aggregated form, whatever the number of records (even one
   * or none), without resetting it; {@link finish} sends a single record plain instead.
   */
  encodeAggregate(): Uint8Array {
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
export function newRecordBytes(
  partitionKeyLength: number,
  explicitHashKeyLength: number,
  dataLength: number,
  count: number,
  explicitHashKeys: number,
): number {
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
  for (const record of records) builder.addUnbounded(record.partitionKey, record.explicitHashKey, record.data);
  return builder.encodeAggregate();
}
