import { type UserRecord, ValidationError, validateUserRecord } from '../records.js';

/*
 * A user record as a frame's payload, little-endian:
 *   u8 format (1) | u16 stream name bytes | u16 partition key bytes | u8 explicit hash key bytes |
 *   stream name | partition key | explicit hash key | data
 * All strings are UTF-8; an empty stream name means the producer's own stream.
 */

const FORMAT = 1;
const HEAD_BYTES = 6;

/** A record as it comes back from the spool. */
export interface SpooledRecord {
  /** Absent for the producer's own stream. */
  streamName?: string;
  readonly partitionKey: string;
  explicitHashKey?: string;
  /** A view of the bytes read from disk. */
  readonly data: Buffer;
}

/** The payload of a record: its stream (undefined for the producer's own), key, explicit hash key and data. */
export function encodeSpooledRecord(
  streamName: string | undefined,
  partitionKey: string,
  explicitHashKey: string | undefined,
  data: Uint8Array,
): Buffer {
  const streamBytes = streamName === undefined ? 0 : Buffer.byteLength(streamName);
  const keyBytes = Buffer.byteLength(partitionKey);
  const hashKeyBytes = explicitHashKey === undefined ? 0 : explicitHashKey.length;
  const payload = Buffer.allocUnsafe(HEAD_BYTES + streamBytes + keyBytes + hashKeyBytes + data.length);
  payload[0] = FORMAT;
  payload.writeUInt16LE(streamBytes, 1);
  payload.writeUInt16LE(keyBytes, 3);
  payload[5] = hashKeyBytes;
  let offset = HEAD_BYTES;
  if (streamName !== undefined) offset += payload.write(streamName, offset, 'utf8');
  offset += payload.write(partitionKey, offset, 'utf8');
  if (explicitHashKey !== undefined) offset += payload.write(explicitHashKey, offset, 'latin1');
  payload.set(data, offset);
  return payload;
}

/**
 * Validates a user record, with an optional stream name, and encodes it as a payload.
 * @throws ValidationError naming the field that is wrong.
 */
export function encodeUserRecord(record: UserRecord & { readonly streamName?: string }, hashKeyScratch: Uint32Array): Buffer {
  const data = validateUserRecord(record, hashKeyScratch, 0);
  if (record.streamName !== undefined && (typeof record.streamName !== 'string' || record.streamName.length === 0)) {
    throw new ValidationError('streamName', "a record's streamName must be a non-empty string");
  }
  return encodeSpooledRecord(record.streamName, record.partitionKey, record.explicitHashKey, data);
}

/** Reads a payload written by {@link encodeSpooledRecord}; undefined when it is not one (a format from elsewhere). */
export function decodeSpooledRecord(payload: Buffer): SpooledRecord | undefined {
  if (payload.length < HEAD_BYTES || payload[0] !== FORMAT) return undefined;
  const streamBytes = payload.readUInt16LE(1);
  const keyBytes = payload.readUInt16LE(3);
  const hashKeyBytes = payload[5] as number;
  const keyStart = HEAD_BYTES + streamBytes;
  const hashKeyStart = keyStart + keyBytes;
  const dataStart = hashKeyStart + hashKeyBytes;
  if (dataStart > payload.length) return undefined;
  const record: SpooledRecord = { partitionKey: payload.toString('utf8', keyStart, hashKeyStart), data: payload.subarray(dataStart) };
  if (hashKeyBytes !== 0) record.explicitHashKey = payload.toString('latin1', hashKeyStart, dataStart);
  if (streamBytes !== 0) record.streamName = payload.toString('utf8', HEAD_BYTES, keyStart);
  return record;
}
