import { describe, expect, it } from 'vitest';
import { decodeFields, maxRecordSizeMessage, nameStreamByArn } from '../../src/testing/request-fields.js';
import { codecFor } from '../../src/testing/wire.js';

const json = codecFor({ 'content-type': 'application/x-amz-json-1.1' });

describe('decodeFields', () => {
  it('gives the fields of an object body, and undefined for anything else', () => {
    expect(decodeFields(json, Buffer.from('{"StreamName":"s"}'))).toEqual({ StreamName: 's' });
    expect(decodeFields(json, Buffer.from('[1]'))).toBeUndefined();
    expect(decodeFields(json, Buffer.from('null'))).toBeUndefined();
    expect(decodeFields(json, Buffer.from('{'))).toBeUndefined();
  });
});

describe('nameStreamByArn', () => {
  it('replaces a StreamARN with the StreamName it names', () => {
    const fields: Record<string, unknown> = { StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/events' };
    expect(nameStreamByArn(fields)).toBe(true);
    expect(fields).toEqual({ StreamName: 'events' });
  });

  it('leaves fields with a StreamName, or without a StreamARN, alone', () => {
    const named: Record<string, unknown> = { StreamName: 's', StreamARN: 'arn:aws:kinesis:us-east-1:0:stream/t' };
    expect(nameStreamByArn(named)).toBe(false);
    expect(named['StreamARN']).toBeDefined();
    expect(nameStreamByArn({ ShardCount: 1 })).toBe(false);
  });
});

describe('maxRecordSizeMessage', () => {
  it("is the service's validation message, with the value and the range", () => {
    expect(maxRecordSizeMessage('512')).toBe(
      "1 validation error detected: Value '512' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value between 1024 and 10240",
    );
  });
});
