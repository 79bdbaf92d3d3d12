import { isUnretryableErrorCode } from '../pipeline/kinesis-client.js';
import { THROTTLED_ERROR_CODE } from '../pipeline/retrier.js';
import { UserRecordFailedError, type UserRecordResult } from '../records.js';

/** What a spooled record's failure in the pipeline means for the spool. */
export interface FailureKind {
  /**
   * `closed`: the producer closed under it; it stays in the spool for the next process.
   * `for-good`: Kinesis refused it for good (or throttled it, with failIfThrottled); it leaves the spool.
   * `again`: its attempts or recordTtl ran out (an outage); it is sent again later.
   */
  readonly kind: 'closed' | 'for-good' | 'again';
  /** The error code of its last attempt, or '' when there was none. */
  readonly code: string;
}

/** Classifies the error that a spooled record's pipeline promise rejected with. */
export function failureKind(error: unknown, failIfThrottled: boolean): FailureKind {
  const code = error instanceof UserRecordFailedError ? error.errorCode || lastCode(error) : '';
  if (code === 'ProducerClosed') return { kind: 'closed', code };
  const forGood = isUnretryableErrorCode(code) || (failIfThrottled && code === THROTTLED_ERROR_CODE);
  return { kind: forGood ? 'for-good' : 'again', code };
}

/** The error of a record dropped unsent because it was older than spool.maxAgeMs. */
export function expiredError(payload: Uint8Array, maxAgeMs: number): UserRecordFailedError {
  return new UserRecordFailedError(
    { partitionKey: '', data: payload },
    [],
    `record dropped unsent: older than spool.maxAgeMs (${maxAgeMs.toLocaleString('en-US')} ms)`,
    { reason: 'expired', errorCode: 'Expired' },
  );
}

/** Whether a settle value is a promise (a failure) rather than a result. */
export function isThenable(value: unknown): value is PromiseLike<UserRecordResult> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function lastCode(error: UserRecordFailedError): string {
  return error.attempts[error.attempts.length - 1]?.errorCode ?? '';
}
