import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/records.js';
import { decodeSpooledRecord, encodeSpooledRecord, encodeUserRecord } from '../../../src/spool/spooled-record.js';

describe('spooled record codec', () => {
  it('round-trips stream, key, explicit hash key and data', () => {
    const data = Buffer.from([0, 1, 2, 255]);
    const decoded = decodeSpooledRecord(encodeSpooledRecord('other-stream', 'clé-π', '340282366920938463463374607431768211455', data));
    expect(decoded).toEqual({
      streamName: 'other-stream',
      partitionKey: 'clé-π',
      explicitHashKey: '340282366920938463463374607431768211455',
      data,
    });
  });

  it('leaves stream and explicit hash key undefined when absent', () => {
    const decoded = decodeSpooledRecord(encodeSpooledRecord(undefined, 'k', undefined, new Uint8Array(0)));
    expect(decoded).toEqual({ streamName: undefined, partitionKey: 'k', explicitHashKey: undefined, data: Buffer.alloc(0) });
  });

  it('returns undefined for a payload that is not a record', () => {
    expect(decodeSpooledRecord(Buffer.from([9, 0, 0, 0, 0, 0]))).toBeUndefined();
    expect(decodeSpooledRecord(Buffer.from([1, 0, 0, 200, 0, 0]))).toBeUndefined();
  });
});

describe('encodeUserRecord', () => {
  it('validates and encodes a record with its stream', () => {
    const payload = encodeUserRecord({ streamName: 's', partitionKey: 'k', data: 'd' }, new Uint32Array(4));
    expect(decodeSpooledRecord(payload)).toMatchObject({ streamName: 's', partitionKey: 'k', data: Buffer.from('d') });
  });

  it('refuses an empty stream name or a bad record with ValidationError naming the field', () => {
    expect(() => encodeUserRecord({ streamName: '', partitionKey: 'k', data: 'd' }, new Uint32Array(4))).toThrow(
      expect.objectContaining({ field: 'streamName' }),
    );
    expect(() => encodeUserRecord({ partitionKey: '', data: 'd' }, new Uint32Array(4))).toThrow(ValidationError);
  });
});
