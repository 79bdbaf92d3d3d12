import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePutRecordsBody } from '../../src/format/put-records-body.js';

describe('encodePutRecordsBody', () => {
  it('writes exactly the JSON the SDK would, for any keys, data and stream names', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            partitionKey: fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }),
            data: fc.uint8Array({ maxLength: 300 }),
            explicitHashKey: fc.option(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }).map(String), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        fc.record({
          StreamName: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
          StreamARN: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        }),
        (records, target) => {
          const body = encodePutRecordsBody(target, records);
          const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
          expect(parsed).toEqual({
            Records: records.map((r) => ({
              Data: Buffer.from(r.data).toString('base64'),
              PartitionKey: r.partitionKey,
              ...(r.explicitHashKey !== undefined ? { ExplicitHashKey: r.explicitHashKey } : {}),
            })),
            ...(target.StreamARN !== undefined ? { StreamARN: target.StreamARN } : {}),
            ...(target.StreamName !== undefined ? { StreamName: target.StreamName } : {}),
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('encodes a view into a larger buffer by its own bytes only', () => {
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    const body = encodePutRecordsBody({ StreamName: 's' }, [
      { partitionKey: 'k', explicitHashKey: undefined, data: backing.subarray(1, 4) },
    ]);
    expect(JSON.parse(body.toString())).toEqual({ Records: [{ Data: 'AQID', PartitionKey: 'k' }], StreamName: 's' });
  });
});
