/**
 * The public record types and the validation every record passes on `add()` before anything is
 * queued. The errors live in errors.ts and are re-exported here, where callers have always found them.
 */
import { hashPartitionKey, parseHashKey } from './format/hash-key.js';
import { LARGEST_RECORD_BYTES, MAX_HASH_KEY, MAX_PARTITION_KEY_LENGTH } from './format/limits.js';
import { utf8Length } from './format/utf8.js';
import { describeValue, formatNumber } from './describe-value.js';
import { ValidationError } from './errors.js';

export {
  BufferFullError,
  KPL_ERROR_CODES,
  KplError,
  type KplErrorCode,
  ProducerClosedError,
  UserRecordFailedError,
  type UserRecordFailureReason,
  ValidationError,
} from './errors.js';

/** A record as the user hands it to `producer.add()`. */
export interface UserRecord {
  /** 1 to 256 characters; its MD5 picks the shard unless `explicitHashKey` is given. */
  partitionKey: string;
  /** The payload; a string is sent as its UTF-8 bytes. A Uint8Array is sent as is, not copied. */
  data: Uint8Array | string;
  /** A decimal integer in [0, 2^128 - 1] that picks the shard instead of the partition key. */
  explicitHashKey?: string;
}

/** One try at sending a record. */
export interface Attempt {
  /** How long the record waited before this try (backoff), in whole milliseconds. */
  readonly delayMs: number;
  /** How long the request carrying the record took, in whole milliseconds. */
  readonly durationMs: number;
  readonly success: boolean;
  /** Kinesis's error code (e.g. ProvisionedThroughputExceededException) or the SDK's error name. */
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/** What `producer.add()` resolves with once Kinesis has accepted the record. */
export interface UserRecordResult {
  successful: true;
  /** The shard that accepted it. */
  shardId: string;
  /** The sequence number of the Kinesis record that carried it. */
  sequenceNumber: string;
  /** Its index inside that Kinesis record's aggregate; 0 when it was sent plain. */
  subSequenceNumber: number;
  /**
   * Every try, the successful one last. When the first try succeeded, records that became ready in
   * the same millisecond may share one list, which is then frozen.
   */
  attempts: readonly Attempt[];
}

/**
 * Told of a record's outcome by `producer.addWithCallback()`: `error` is undefined once Kinesis has
 * the record, else why it was not delivered (a UserRecordFailedError). It runs inside the
 * producer's settle step, so it must be quick; an error it throws is rethrown on a later tick
 * (an uncaught exception), not swallowed.
 */
export type RecordCallback = (error: Error | undefined, record: UserRecord) => void;

/**
 * Validates a user record and returns its data as bytes (a string is UTF-8 encoded; a Uint8Array
 * is returned as is). Writes the record's hash key into `hashKeyOut` at `offset`: the parsed
 * `explicitHashKey` when given, else the MD5 of the partition key.
 *
 * @throws ValidationError naming the field, the problem and the limit: the record is missing or
 * not an object; `partitionKey` is not a string, is empty or is longer than 256 UTF-16 code units;
 * `data` is neither a Uint8Array nor a string; data plus partition key exceed `maxRecordBytes`
 * in UTF-8 bytes (10 MiB unless the stream's own limit is given, which `maxRecordBytesSource`
 * names); `explicitHashKey` is not a decimal integer in [0, 2^128 - 1].
 */
export function validateUserRecord(
  record: unknown,
  hashKeyOut: Uint32Array,
  offset: number,
  maxRecordBytes = LARGEST_RECORD_BYTES,
  maxRecordBytesSource = LARGEST_RECORD_SOURCE,
): Uint8Array {
  if (typeof record !== 'object' || record === null) {
    throw new ValidationError(
      'record',
      `record must be an object with partitionKey and data, got ${describeValue(record)}`,
      undefined,
      undefined,
      { code: 'KPL_RECORD_MISSING' },
    );
  }
  const { partitionKey, data, explicitHashKey } = record as { [K in keyof UserRecord]?: unknown };

  if (typeof partitionKey !== 'string') {
    throw new ValidationError('partitionKey', `partitionKey must be a string, got ${describeValue(partitionKey)}`, undefined, undefined, {
      code: 'KPL_PARTITION_KEY_INVALID',
    });
  }
  if (partitionKey.length === 0) {
    throw new ValidationError('partitionKey', `partitionKey is empty; it must be 1 to ${MAX_PARTITION_KEY_LENGTH} characters`, 1, 0, {
      code: 'KPL_PARTITION_KEY_EMPTY',
    });
  }
  if (partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
    throw new ValidationError(
      'partitionKey',
      `partitionKey is ${formatNumber(partitionKey.length)} characters (UTF-16 code units); the limit is ${MAX_PARTITION_KEY_LENGTH}`,
      MAX_PARTITION_KEY_LENGTH,
      partitionKey.length,
      { code: 'KPL_PARTITION_KEY_TOO_LONG' },
    );
  }

  if (explicitHashKey !== undefined) {
    if (typeof explicitHashKey !== 'string' || !parseHashKey(explicitHashKey, hashKeyOut, offset)) {
      throw new ValidationError(
        'explicitHashKey',
        `explicitHashKey must be a decimal integer from 0 to ${MAX_HASH_KEY}, got ${describeValue(explicitHashKey)}`,
        `0 to ${MAX_HASH_KEY}`,
        typeof explicitHashKey === 'string' ? explicitHashKey : undefined,
        { code: 'KPL_EXPLICIT_HASH_KEY_INVALID' },
      );
    }
  }

  let bytes: Uint8Array;
  if (data instanceof Uint8Array) {
    bytes = data;
  } else if (typeof data === 'string') {
    // UTF-8 never takes fewer bytes than UTF-16 code units: reject huge strings before encoding them.
    if (data.length > maxRecordBytes)
      throw recordTooLarge(utf8Length(data) + utf8Length(partitionKey), maxRecordBytes, maxRecordBytesSource);
    bytes = Buffer.from(data, 'utf8');
  } else {
    throw new ValidationError(
      'data',
      `data must be a Uint8Array (or Buffer) or a string, got ${describeValue(data)}`,
      undefined,
      undefined,
      { code: 'KPL_DATA_INVALID' },
    );
  }
  // A key takes at most 3 UTF-8 bytes per code unit: count its bytes only when that could matter.
  if (bytes.length + 3 * partitionKey.length > maxRecordBytes) {
    const total = bytes.length + utf8Length(partitionKey);
    if (total > maxRecordBytes) throw recordTooLarge(total, maxRecordBytes, maxRecordBytesSource);
  }

  if (explicitHashKey === undefined) hashPartitionKey(partitionKey, hashKeyOut, offset);
  return bytes;
}

/** What {@link LARGEST_RECORD_BYTES} is, as a record-too-large message says it. */
const LARGEST_RECORD_SOURCE = 'the largest record any stream takes, MaxRecordSizeInKiB 10,240';

/**
 * The error of a record of `total` bytes (data plus partition key) over `limit`; `source` says
 * whose limit it is, e.g. "MaxRecordSizeInKiB 1,024 of stream orders".
 */
export function recordTooLarge(total: number, limit: number, source: string): ValidationError {
  return new ValidationError(
    'data',
    `record is ${formatNumber(total)} bytes with its partition key; the limit is ${formatNumber(limit)} (${source})`,
    limit,
    total,
    { code: 'KPL_RECORD_TOO_LARGE' },
  );
}
