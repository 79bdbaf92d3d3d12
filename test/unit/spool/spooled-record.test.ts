import { describe, expect, it } from 'vitest';
import { decodeSpooledRecord, encodeSpooledRecord } from '../../../src/spool/spooled-record.js';

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
