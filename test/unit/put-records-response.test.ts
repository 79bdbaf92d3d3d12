import { describe, expect, it } from 'vitest';
import { parsePutRecordsResponse } from '../../src/format/put-records-response.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('parsePutRecordsResponse', () => {
  it('gives one outcome per record sent, in order: successes and per-record errors', () => {
    const body = encode(
      JSON.stringify({
        FailedRecordCount: 1,
        Records: [
          { SequenceNumber: '49590338271490256608559692538361571095921575989136588898', ShardId: 'shardId-000000000001' },
          { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000001' },
          { ErrorCode: 'InternalFailure' },
        ],
        EncryptionType: 'NONE',
      }),
    );
    expect(parsePutRecordsResponse(body, 3)).toEqual([
      { shardId: 'shardId-000000000001', sequenceNumber: '49590338271490256608559692538361571095921575989136588898' },
      { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'Rate exceeded for shard shardId-000000000001' },
      { errorCode: 'InternalFailure', errorMessage: 'InternalFailure' },
    ]);
  });

  it('fails, as InternalFailure, the records it has no usable result for', () => {
    const outcomes = parsePutRecordsResponse(encode('{"Records":[{"ShardId":"shardId-1"},null,{"ErrorCode":""}]}'), 4);
    expect(outcomes?.map((o) => o.errorCode)).toEqual(['InternalFailure', 'InternalFailure', 'InternalFailure', 'InternalFailure']);
    expect(outcomes?.[3]).toMatchObject({ errorMessage: 'PutRecords answered with fewer results than records sent' });
  });

  it('reads keys and messages with any characters JSON allows', () => {
    const outcomes = parsePutRecordsResponse(encode('{"Records":[{"ErrorCode":"X","ErrorMessage":"quote \\" and \\u00e9"}]}'), 1);
    expect(outcomes).toEqual([{ errorCode: 'X', errorMessage: 'quote " and é' }]);
  });

  it.each([
    ['text that is not JSON', '<html>502</html>'],
    ['a JSON value that is not an object', '"Records"'],
    ['null', 'null'],
    ['an object without Records', '{"FailedRecordCount":0}'],
    ['Records that is not an array', '{"Records":{"0":{}}}'],
    ['nothing', ''],
  ])('returns undefined for %s', (_name, text) => {
    expect(parsePutRecordsResponse(encode(text), 1)).toBeUndefined();
  });
});
