/**
 * The public record types, the errors the producer raises, and the validation every record
 * passes on `add()` before anything is queued.
 */
import { hashPartitionKey, parseHashKey } from './format/hash-key.js';
import { LARGEST_RECORD_BYTES, MAX_HASH_KEY, MAX_PARTITION_KEY_LENGTH } from './format/limits.js';
import { utf8Length } from './format/utf8.js';
import { describeValue, formatNumber } from './describe-value.js';

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

/** Every error code the library raises; stable, for callers to switch on. */
export const KPL_ERROR_CODES = [
  'KPL_VALIDATION',
  'KPL_RECORD_MISSING',
  'KPL_PARTITION_KEY_INVALID',
  'KPL_PARTITION_KEY_EMPTY',
  'KPL_PARTITION_KEY_TOO_LONG',
  'KPL_EXPLICIT_HASH_KEY_INVALID',
  'KPL_DATA_INVALID',
  'KPL_RECORD_TOO_LARGE',
  'KPL_CONFIG_INVALID',
  'KPL_RECORD_FAILED',
  'KPL_PRODUCER_CLOSED',
  'KPL_BUFFER_FULL',
  'KPL_SPOOL_LOCKED',
  'KPL_SPOOL_WRITE_FAILED',
] as const;

/** One of {@link KPL_ERROR_CODES}. */
export type KplErrorCode = (typeof KPL_ERROR_CODES)[number];

/**
 * Marks a class's prototype with its name and a registry-wide symbol. `instanceof` checks the
 * symbol, not the prototype chain, so it holds when an application ends up with two copies of
 * this package (two versions in node_modules, or ESM and CJS builds side by side).
 */
function brand(errorClass: { prototype: Error }, name: string): symbol {
  const symbol = Symbol.for(`kinesis-kpl.error.${name}`);
  Object.defineProperty(errorClass.prototype, 'name', { value: name, writable: true, configurable: true });
  Object.defineProperty(errorClass.prototype, symbol, { value: true });
  return symbol;
}

function hasBrand(instance: unknown, symbol: symbol): boolean {
  return typeof instance === 'object' && instance !== null && (instance as Record<symbol, unknown>)[symbol] === true;
}

/** The base of every error this library raises; `code` is stable, `message` is for people. */
export class KplError extends Error {
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return hasBrand(instance, kplErrorBrand);
  }

  /** What went wrong, as a stable code. */
  readonly code: KplErrorCode;

  /** @param message says what went wrong in words. */
  constructor(message: string, code: KplErrorCode, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
const kplErrorBrand = brand(KplError, 'KplError');

/** Bad input (a record or an option): rejected at once, nothing sent. */
export class ValidationError extends KplError {
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return hasBrand(instance, validationErrorBrand);
  }

  /** The input field at fault, e.g. `partitionKey`, or for an option its name, e.g. `recordTtl`. */
  readonly field: string;
  /** The limit the input broke, e.g. 256 or "0 to 2^128 - 1". */
  declare readonly limit?: number | string;
  /** What the input had instead, e.g. its length. */
  declare readonly actual?: number | string;

  /**
   * @param message names the field, the problem and the limit in words.
   * @param options.code defaults to `KPL_VALIDATION`; record checks use the specific codes.
   */
  constructor(
    field: string,
    message: string,
    limit?: number | string,
    actual?: number | string,
    options?: { code?: KplErrorCode; cause?: unknown },
  ) {
    super(message, options?.code ?? 'KPL_VALIDATION', options?.cause === undefined ? undefined : { cause: options.cause });
    this.field = field;
    if (limit !== undefined) this.limit = limit;
    if (actual !== undefined) this.actual = actual;
  }
}
const validationErrorBrand = brand(ValidationError, 'ValidationError');

/**
 * Why a record was not delivered: its recordTtl passed (`expired`), it was throttled with
 * `failIfThrottled` (`throttled`), Kinesis gave an error no retry fixes (`unretryable`), or the
 * producer closed before it was sent (`closed`).
 */
export type UserRecordFailureReason = 'expired' | 'throttled' | 'unretryable' | 'closed';

/** A record that was not delivered: its retries ran out, its TTL passed, or it was throttled with `failIfThrottled`. */
export class UserRecordFailedError extends KplError {
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return hasBrand(instance, userRecordFailedErrorBrand);
  }

  /** The record as it was added. */
  readonly record: UserRecord;
  /** Every try, in order; the last one says why it finally failed. */
  readonly attempts: readonly Attempt[];
  /** Why it failed, for a caller to switch on. */
  readonly reason: UserRecordFailureReason;
  /**
   * The last error code Kinesis gave it (or the SDK, for a request that got no answer); when no
   * attempt failed, the code of what stopped it: `Expired` or `ProducerClosed`.
   */
  readonly errorCode: string;

  /**
   * @param message overrides the default message, which quotes the last attempt's error.
   * @param details the reason (default `unretryable`) and the error code (default the last attempt's).
   */
  constructor(
    record: UserRecord,
    attempts: readonly Attempt[],
    message?: string,
    details?: { readonly reason?: UserRecordFailureReason; readonly errorCode?: string },
  ) {
    super(message ?? describeFailure(attempts), 'KPL_RECORD_FAILED');
    this.record = record;
    this.attempts = attempts;
    this.reason = details?.reason ?? 'unretryable';
    this.errorCode = details?.errorCode ?? attempts[attempts.length - 1]?.errorCode ?? '';
  }
}
const userRecordFailedErrorBrand = brand(UserRecordFailedError, 'UserRecordFailedError');

function describeFailure(attempts: readonly Attempt[]): string {
  const last = attempts[attempts.length - 1];
  const tries = `${attempts.length} attempt${attempts.length === 1 ? '' : 's'}`;
  if (last === undefined) return 'record failed before any attempt';
  const cause = [last.errorCode, last.errorMessage].filter((part) => part !== undefined && part !== '').join(': ');
  return `record failed after ${tries}${cause === '' ? '' : `; last error ${cause}`}`;
}

/** `add()` after `close()`. */
export class ProducerClosedError extends KplError {
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return hasBrand(instance, producerClosedErrorBrand);
  }

  constructor(message = 'the producer is closed; add() after close() is rejected') {
    super(message, 'KPL_PRODUCER_CLOSED');
  }
}
const producerClosedErrorBrand = brand(ProducerClosedError, 'ProducerClosedError');

/**
 * `add()` while the producer holds `maxOutstandingRecords` or `maxOutstandingBytes`: rejected at once,
 * nothing queued. Like {@link ValidationError} it names the `field` (the option), its `limit` and the
 * `actual` amount outstanding; `max` and `outstanding` say the same under their first names.
 */
export class BufferFullError extends KplError {
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return hasBrand(instance, bufferFullErrorBrand);
  }

  /** The option whose limit was reached, e.g. `maxOutstandingRecords`. */
  readonly field: string;
  /** That option's value. */
  readonly limit: number;
  /** Records (or bytes) outstanding when the record arrived. */
  readonly actual: number;
  /** That option's value, as {@link limit}. */
  readonly max: number;
  /** Records (or bytes) outstanding when the record arrived, as {@link actual}. */
  readonly outstanding: number;

  /**
   * @param field the option whose limit was reached; a name ending in `Records` counts records, any
   *   other bytes.
   */
  constructor(field: 'maxOutstandingRecords' | 'maxOutstandingBytes' | (string & {}), max: number, outstanding: number) {
    const unit = field.endsWith('Records') ? 'records' : 'bytes';
    super(
      `${field} reached: ${formatNumber(outstanding)} ${unit} outstanding, the limit is ${formatNumber(max)}; ` +
        'await producer.ready() before adding more',
      'KPL_BUFFER_FULL',
    );
    this.field = field;
    this.limit = max;
    this.actual = outstanding;
    this.max = max;
    this.outstanding = outstanding;
  }
}
const bufferFullErrorBrand = brand(BufferFullError, 'BufferFullError');

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
