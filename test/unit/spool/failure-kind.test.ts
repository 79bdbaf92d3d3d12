import { describe, expect, it } from 'vitest';
import { UserRecordFailedError } from '../../../src/records.js';
import { expiredError, failureKind, isThenable } from '../../../src/spool/failure-kind.js';

function failure(errorCode: string, lastAttemptCode = errorCode): UserRecordFailedError {
  return new UserRecordFailedError(
    { partitionKey: 'k', data: '' },
    [{ delayMs: 0, durationMs: 1, success: false, errorCode: lastAttemptCode }],
    undefined,
    { errorCode },
  );
}

describe('failureKind', () => {
  it.each([
    ['ProducerClosed', false, 'closed'],
    ['ValidationException', false, 'for-good'],
    ['ProvisionedThroughputExceededException', false, 'again'],
    ['ProvisionedThroughputExceededException', true, 'for-good'],
    ['ServiceUnavailable', true, 'again'],
  ] as const)('%s (failIfThrottled %s) is %s', (code, failIfThrottled, kind) => {
    expect(failureKind(failure(code), failIfThrottled)).toEqual({ kind, code });
  });

  it("takes the last attempt's code when the error has none, and sends anything else again", () => {
    expect(failureKind(failure('', 'ValidationException'), false)).toEqual({ kind: 'for-good', code: 'ValidationException' });
    expect(failureKind(new Error('socket hang up'), false)).toEqual({ kind: 'again', code: '' });
  });
});

describe('expiredError', () => {
  it('says the record was older than spool.maxAgeMs, with the limit', () => {
    const error = expiredError(Buffer.from('x'), 86_400_000);
    expect(error).toBeInstanceOf(UserRecordFailedError);
    expect(error.errorCode).toBe('Expired');
    expect(error.message).toContain('older than spool.maxAgeMs (86,400,000 ms)');
  });
});

describe('isThenable', () => {
  it('tells a promise from a result', () => {
    const rejected = Promise.reject(new Error('x'));
    rejected.catch(() => undefined);
    expect(isThenable(rejected)).toBe(true);
    expect(isThenable({ successful: true })).toBe(false);
    expect(isThenable(undefined)).toBe(false);
  });
});
