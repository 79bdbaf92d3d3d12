import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashKeyToDecimal } from '../../src/format/hash-key.js';
import { MAX_HASH_KEY, MAX_RECORD_BYTES } from '../../src/format/limits.js';
import {
  BufferFullError,
  KPL_ERROR_CODES,
  KplError,
  ProducerClosedError,
  UserRecordFailedError,
  ValidationError,
  validateUserRecord,
  type KplErrorCode,
} from '../../src/records.js';

const hashKeyOut = new Uint32Array(8);

/** A default stream's limit, as the producer passes it once DescribeStreamSummary said it. */
const STREAM_SOURCE = 'MaxRecordSizeInKiB 1,024 of stream s';

function validate(record: unknown): { bytes: Uint8Array; hashKey: string } {
  const bytes = validateUserRecord(record, hashKeyOut, 4, MAX_RECORD_BYTES, STREAM_SOURCE);
  return { bytes, hashKey: hashKeyToDecimal(hashKeyOut, 4) };
}

function rejection(record: unknown): ValidationError {
  try {
    validateUserRecord(record, hashKeyOut, 0, MAX_RECORD_BYTES, STREAM_SOURCE);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

const md5Decimal = (key: string): string => BigInt(`0x${createHash('md5').update(key, 'utf8').digest('hex')}`).toString();

describe('validateUserRecord', () => {
  it('returns Uint8Array data as is, and a string as its UTF-8 bytes', () => {
    const data = Uint8Array.of(1, 2, 3);
    expect(validate({ partitionKey: 'k', data }).bytes).toBe(data);
    const buffer = Buffer.from('buf');
    expect(validate({ partitionKey: 'k', data: buffer }).bytes).toBe(buffer);
    expect([...validate({ partitionKey: 'k', data: 'é€' }).bytes]).toEqual([...Buffer.from('é€')]);
    expect(validate({ partitionKey: 'k', data: '' }).bytes.length).toBe(0);
  });

  it('writes the MD5 of the partition key, or the explicit hash key when given', () => {
    expect(validate({ partitionKey: 'ключ-🔑', data: 'x' }).hashKey).toBe(md5Decimal('ключ-🔑'));
    expect(validate({ partitionKey: 'k', data: 'x', explicitHashKey: '12345' }).hashKey).toBe('12345');
    expect(validate({ partitionKey: 'k', data: 'x', explicitHashKey: undefined }).hashKey).toBe(md5Decimal('k'));
  });

  it("takes records up to 10 MiB with their key unless told the stream's own limit", () => {
    const largest = 10 * 1024 * 1024;
    expect(validateUserRecord({ partitionKey: 'k', data: new Uint8Array(largest - 1) }, hashKeyOut, 0).length).toBe(largest - 1);
    let error: unknown;
    try {
      validateUserRecord({ partitionKey: 'k', data: new Uint8Array(largest) }, hashKeyOut, 0);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'data', limit: largest, actual: largest + 1, code: 'KPL_RECORD_TOO_LARGE' });
    expect((error as Error).message).toBe(
      'record is 10,485,761 bytes with its partition key; the limit is 10,485,760 (the largest record any stream takes, MaxRecordSizeInKiB 10,240)',
    );
  });

  it('accepts the exact limits', () => {
    expect(() => validate({ partitionKey: 'k'.repeat(256), data: 'x' })).not.toThrow();
    expect(() => validate({ partitionKey: '😀'.repeat(128), data: 'x' })).not.toThrow();
    expect(() => validate({ partitionKey: 'k', data: new Uint8Array(MAX_RECORD_BYTES - 1) })).not.toThrow();
    expect(() => validate({ partitionKey: 'é'.repeat(256), data: new Uint8Array(MAX_RECORD_BYTES - 512) })).not.toThrow();
    expect(() => validate({ partitionKey: 'kk', data: 'x'.repeat(MAX_RECORD_BYTES - 2) })).not.toThrow();
    expect(validate({ partitionKey: 'k', data: 'x', explicitHashKey: '0' }).hashKey).toBe('0');
    expect(validate({ partitionKey: 'k', data: 'x', explicitHashKey: MAX_HASH_KEY }).hashKey).toBe(MAX_HASH_KEY);
    expect(validate({ partitionKey: 'k', data: 'x', explicitHashKey: `000${MAX_HASH_KEY}` }).hashKey).toBe(MAX_HASH_KEY);
    expect(validate({ partitionKey: 'k', data: 'x', explicitHashKey: '007' }).hashKey).toBe('7');
  });

  const bad: Array<[string, unknown, KplErrorCode, string, RegExp]> = [
    ['no record', undefined, 'KPL_RECORD_MISSING', 'record', /record must be an object.*got undefined/],
    ['null', null, 'KPL_RECORD_MISSING', 'record', /got null/],
    ['a string', 'data', 'KPL_RECORD_MISSING', 'record', /got "data"/],
    ['no partition key', { data: 'x' }, 'KPL_PARTITION_KEY_INVALID', 'partitionKey', /partitionKey must be a string, got undefined/],
    ['a numeric partition key', { partitionKey: 1, data: 'x' }, 'KPL_PARTITION_KEY_INVALID', 'partitionKey', /got number 1/],
    [
      'an empty partition key',
      { partitionKey: '', data: 'x' },
      'KPL_PARTITION_KEY_EMPTY',
      'partitionKey',
      /partitionKey is empty; it must be 1 to 256/,
    ],
    [
      'a 257-character key',
      { partitionKey: 'k'.repeat(257), data: 'x' },
      'KPL_PARTITION_KEY_TOO_LONG',
      'partitionKey',
      /partitionKey is 257 characters .*the limit is 256/,
    ],
    [
      'a key of 129 emoji (258 code units)',
      { partitionKey: '😀'.repeat(129), data: 'x' },
      'KPL_PARTITION_KEY_TOO_LONG',
      'partitionKey',
      /258 characters/,
    ],
    ['no data', { partitionKey: 'k' }, 'KPL_DATA_INVALID', 'data', /data must be a Uint8Array \(or Buffer\) or a string, got undefined/],
    ['numeric data', { partitionKey: 'k', data: 5 }, 'KPL_DATA_INVALID', 'data', /got number 5/],
    ['an ArrayBuffer', { partitionKey: 'k', data: new ArrayBuffer(4) }, 'KPL_DATA_INVALID', 'data', /got a ArrayBuffer/],
    ['a Uint16Array', { partitionKey: 'k', data: new Uint16Array(4) }, 'KPL_DATA_INVALID', 'data', /Uint16Array/],
    ['a plain object', { partitionKey: 'k', data: { a: 1 } }, 'KPL_DATA_INVALID', 'data', /got a Object/],
    [
      'data + key one byte over',
      { partitionKey: 'k', data: new Uint8Array(MAX_RECORD_BYTES) },
      'KPL_RECORD_TOO_LARGE',
      'data',
      /^record is 1,048,577 bytes with its partition key; the limit is 1,048,576 \(MaxRecordSizeInKiB 1,024 of stream s\)$/,
    ],
    [
      'a multi-byte key over',
      { partitionKey: 'é', data: new Uint8Array(MAX_RECORD_BYTES - 1) },
      'KPL_RECORD_TOO_LARGE',
      'data',
      /1,048,577 bytes/,
    ],
    [
      'string data over in UTF-8',
      { partitionKey: 'k', data: 'é'.repeat(MAX_RECORD_BYTES / 2) },
      'KPL_RECORD_TOO_LARGE',
      'data',
      /1,048,577 bytes/,
    ],
    [
      'huge string data',
      { partitionKey: 'k', data: 'x'.repeat(MAX_RECORD_BYTES + 100) },
      'KPL_RECORD_TOO_LARGE',
      'data',
      /1,048,677 bytes/,
    ],
    [
      'an empty explicit hash key',
      { partitionKey: 'k', data: 'x', explicitHashKey: '' },
      'KPL_EXPLICIT_HASH_KEY_INVALID',
      'explicitHashKey',
      /must be a decimal integer from 0 to 340282366920938463463374607431768211455, got ""/,
    ],
    [
      'a negative explicit hash key',
      { partitionKey: 'k', data: 'x', explicitHashKey: '-1' },
      'KPL_EXPLICIT_HASH_KEY_INVALID',
      'explicitHashKey',
      /got "-1"/,
    ],
    [
      '2^128',
      { partitionKey: 'k', data: 'x', explicitHashKey: '340282366920938463463374607431768211456' },
      'KPL_EXPLICIT_HASH_KEY_INVALID',
      'explicitHashKey',
      /got "340282366920938463463374607431768211456"/,
    ],
    [
      'a hex explicit hash key',
      { partitionKey: 'k', data: 'x', explicitHashKey: '0x1f' },
      'KPL_EXPLICIT_HASH_KEY_INVALID',
      'explicitHashKey',
      /got "0x1f"/,
    ],
    [
      'a numeric explicit hash key',
      { partitionKey: 'k', data: 'x', explicitHashKey: 5 },
      'KPL_EXPLICIT_HASH_KEY_INVALID',
      'explicitHashKey',
      /got number 5/,
    ],
    [
      'a null explicit hash key',
      { partitionKey: 'k', data: 'x', explicitHashKey: null },
      'KPL_EXPLICIT_HASH_KEY_INVALID',
      'explicitHashKey',
      /got null/,
    ],
  ];

  it.each(bad)('rejects %s', (_, record, code, field, message) => {
    const error = rejection(record);
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('carries the limit and the actual value', () => {
    expect(rejection({ partitionKey: 'k', data: new Uint8Array(MAX_RECORD_BYTES) })).toMatchObject({
      limit: MAX_RECORD_BYTES,
      actual: MAX_RECORD_BYTES + 1,
    });
    expect(rejection({ partitionKey: 'k'.repeat(300), data: 'x' })).toMatchObject({ limit: 256, actual: 300 });
  });
});

describe('errors', () => {
  const cases: Array<[string, KplError, KplErrorCode, abstract new (...args: never[]) => KplError]> = [
    [
      'ValidationError',
      new ValidationError('recordTtl', 'recordTtl must be at least 100, got 5', 100, 5),
      'KPL_VALIDATION',
      ValidationError,
    ],
    ['UserRecordFailedError', new UserRecordFailedError({ partitionKey: 'k', data: 'x' }, []), 'KPL_RECORD_FAILED', UserRecordFailedError],
    ['ProducerClosedError', new ProducerClosedError(), 'KPL_PRODUCER_CLOSED', ProducerClosedError],
    ['BufferFullError', new BufferFullError('maxOutstandingRecords', 1000, 1000), 'KPL_BUFFER_FULL', BufferFullError],
  ];

  it.each(cases)('%s has its name and code, and is a KplError and an Error', (name, error, code, errorClass) => {
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(KPL_ERROR_CODES).toContain(code);
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toBeInstanceOf(KplError);
    expect(error).toBeInstanceOf(Error);
    expect(String(error.stack)).toContain(name);
    for (const [, , , other] of cases) if (other !== errorClass) expect(error).not.toBeInstanceOf(other);
  });

  it('keeps instanceof working across two copies of the package', () => {
    const fromOtherCopy = Object.create(Error.prototype, {
      [Symbol.for('kinesis-kpl.error.KplError')]: { value: true },
      [Symbol.for('kinesis-kpl.error.ValidationError')]: { value: true },
    }) as unknown;
    expect(fromOtherCopy).toBeInstanceOf(ValidationError);
    expect(fromOtherCopy).toBeInstanceOf(KplError);
    expect(fromOtherCopy).not.toBeInstanceOf(BufferFullError);
    expect(new Error('x')).not.toBeInstanceOf(KplError);
    expect(null).not.toBeInstanceOf(KplError);
  });

  it('say what happened in words', () => {
    const attempts = [
      {
        delayMs: 0,
        durationMs: 12,
        success: false,
        errorCode: 'ProvisionedThroughputExceededException',
        errorMessage: 'Rate exceeded for shard',
      },
      { delayMs: 100, durationMs: 9, success: false, errorCode: 'InternalFailure' },
    ];
    const record = { partitionKey: 'k', data: 'x' };
    const failed = new UserRecordFailedError(record, attempts);
    expect(failed.message).toBe('record failed after 2 attempts; last error InternalFailure');
    expect(failed.record).toBe(record);
    expect(failed.attempts).toBe(attempts);
    expect(new UserRecordFailedError(record, attempts, 'record expired: recordTtl 30,000 ms passed').message).toMatch(/recordTtl/);
    const full = new BufferFullError('maxOutstandingBytes', 1_048_576, 1_048_000);
    expect(full.message).toBe(
      'maxOutstandingBytes reached: 1,048,000 bytes outstanding, the limit is 1,048,576; await producer.ready() before adding more',
    );
    expect(full).toMatchObject({
      field: 'maxOutstandingBytes',
      limit: 1_048_576,
      actual: 1_048_000,
      max: 1_048_576,
      outstanding: 1_048_000,
    });
    expect(failed).toMatchObject({ reason: 'unretryable', errorCode: 'InternalFailure' });
    expect(new UserRecordFailedError(record, attempts, undefined, { reason: 'expired', errorCode: 'Expired' })).toMatchObject({
      reason: 'expired',
      errorCode: 'Expired',
    });
    const invalid = new ValidationError('recordTtl', 'recordTtl must be at least 100, got 5', 100, 5, { code: 'KPL_CONFIG_INVALID' });
    expect(invalid).toMatchObject({ field: 'recordTtl', limit: 100, actual: 5, code: 'KPL_CONFIG_INVALID' });
    expect(new ValidationError('x', 'x is bad')).not.toHaveProperty('limit');
  });
});
