/**
 * The errors the producer raises: one base class with a stable code, and a subclass per kind of
 * failure, each carrying the context a caller needs (the field and its limit, the record and its
 * attempts). `instanceof` works across two copies of the package through a registry-wide brand.
 */
import { formatNumber } from './describe-value.js';
import type { Attempt, UserRecord } from './records.js';

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
