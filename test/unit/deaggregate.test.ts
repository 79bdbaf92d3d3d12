import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeAggregatedRecord, encodeAggregatedRecord, KPL_MAGIC, LZ4_AGGREGATE_MAGIC } from '../../src/format/aggregated-record.js';
import { deaggregate } from '../../src/format/deaggregate.js';
import { memoryAfterGc } from '../support/memory.js';

const AggregatedRecord = protobuf
  .loadSync(fileURLToPath(new URL('../../proto/kpl.proto', import.meta.url)))
  .lookupType('aws.kinesis.protobuf.AggregatedRecord');

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** magic | body | MD5(body): a frame whose checksum holds, so that the body itself is what is tested. */
function framed(body: Uint8Array, magic: Uint8Array = KPL_MAGIC): Uint8Array {
  return Buffer.concat([magic, body, createHash('md5').update(body).digest()]);
}

function protobufOf(message: Record<string, unknown>): Uint8Array {
  return AggregatedRecord.encode(AggregatedRecord.fromObject(message)).finish();
}

describe('deaggregate', () => {
  it('passes a plain record through whole, with subSequenceNumber 0', () => {
    const data = bytes('just a record');
    expect(deaggregate({ data, partitionKey: 'pk', sequenceNumber: '49590338271490256608559692538361571095921575989136588898' })).toEqual([
      { partitionKey: 'pk', data, sequenceNumber: '49590338271490256608559692538361571095921575989136588898', subSequenceNumber: 0 },
    ]);
    const [plain] = deaggregate({ data, partitionKey: 'pk', explicitHashKey: '7' });
    expect(plain).toEqual({ partitionKey: 'pk', explicitHashKey: '7', data, subSequenceNumber: 0 });
    expect(plain!.data).toBe(data);
    expect(plain).not.toHaveProperty('sequenceNumber');
  });

  it('expands an aggregate in order, with sub-sequence numbers and only the explicit hash keys it holds', () => {
    const aggregate = encodeAggregatedRecord([
      { partitionKey: 'k1', data: bytes('one') },
      { partitionKey: 'k2', explicitHashKey: '123', data: bytes('two') },
      { partitionKey: 'k1', explicitHashKey: '456', data: bytes('three') },
      { partitionKey: 'k3', data: bytes('') },
    ]);
    const records = deaggregate({ data: aggregate, partitionKey: 'a', explicitHashKey: '999', sequenceNumber: '42' });
    expect(records.map((r) => ({ ...r, data: text(r.data) }))).toEqual([
      { partitionKey: 'k1', data: 'one', sequenceNumber: '42', subSequenceNumber: 0 },
      { partitionKey: 'k2', explicitHashKey: '123', data: 'two', sequenceNumber: '42', subSequenceNumber: 1 },
      { partitionKey: 'k1', explicitHashKey: '456', data: 'three', sequenceNumber: '42', subSequenceNumber: 2 },
      { partitionKey: 'k3', data: '', sequenceNumber: '42', subSequenceNumber: 3 },
    ]);
    expect(records[0]).not.toHaveProperty('explicitHashKey');
  });

  it('reads base64 data, as Lambda events carry it', () => {
    const aggregate = encodeAggregatedRecord([
      { partitionKey: 'a', data: bytes('x') },
      { partitionKey: 'b', data: bytes('y') },
    ]);
    const records = deaggregate({ data: Buffer.from(aggregate).toString('base64'), partitionKey: 'a' });
    expect(records.map((r) => [r.partitionKey, text(r.data), r.subSequenceNumber])).toEqual([
      ['a', 'x', 0],
      ['b', 'y', 1],
    ]);
    const [plain] = deaggregate({ data: Buffer.from('hello').toString('base64'), partitionKey: 'p' });
    expect(text(plain!.data)).toBe('hello');
  });

  it('reads LZ4 aggregates', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({
      partitionKey: `device-${i % 5}`,
      data: bytes(JSON.stringify({ i, temperature: 20 + (i % 3) })),
    }));
    const aggregate = encodeAggregatedRecord(records, { compression: 'lz4' });
    expect([...aggregate.subarray(0, 4)]).toEqual([...LZ4_AGGREGATE_MAGIC]);
    expect(deaggregate({ data: aggregate, partitionKey: 'a' }).map((r) => [r.partitionKey, text(r.data)])).toEqual(
      records.map((r) => [r.partitionKey, text(r.data)]),
    );
  });

  it('returns an aggregate with no records as no records, as the KCL does', () => {
    expect(deaggregate({ data: encodeAggregatedRecord([]), partitionKey: 'a' })).toEqual([]);
  });

  it('skips unknown fields and tags, and accepts tables after the records', () => {
    const records = protobufOf({
      records: [
        { partitionKeyIndex: 1, data: bytes('d0'), tags: [{ key: 't', value: 'v' }] },
        { partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: bytes('d1') },
      ],
    });
    const tables = protobufOf({ partitionKeyTable: ['p0', 'p1'], explicitHashKeyTable: ['5'] });
    const unknownField = Uint8Array.of(
      (9 << 3) | 0,
      0x96,
      0x01,
      (10 << 3) | 2,
      2,
      0xff,
      0xff,
      (11 << 3) | 5,
      1,
      2,
      3,
      4,
      (12 << 3) | 1,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
    );
    const result = deaggregate({ data: framed(Buffer.concat([records, unknownField, tables])), partitionKey: 'a' });
    expect(result.map((r) => [r.partitionKey, r.explicitHashKey, text(r.data)])).toEqual([
      ['p1', undefined, 'd0'],
      ['p0', '5', 'd1'],
    ]);
  });

  it('decodes table keys alike whether the stretch they lie in is all ASCII or not, and wherever the tables lie', () => {
    // Keys are cut from one decode of the table when all its bytes are ASCII: the cut must equal
    // decoding each key alone, also when records (ASCII or not) lie between the table fields.
    const key = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', 'Z', '-', '0'), minLength: 0, maxLength: 40 }),
      fc.string({ maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 140 }),
    );
    const invalidUtf8 = fc.constantFrom(Uint8Array.of(0xff), Uint8Array.of(0x61, 0xc3), Uint8Array.of(0xe2, 0x82, 0x61));
    const field = fc.oneof(
      fc.record({ partitionKey: key }),
      fc.record({ rawPartitionKey: invalidUtf8 }),
      fc.record({ data: fc.oneof(fc.string({ maxLength: 30 }).map(bytes), fc.uint8Array({ maxLength: 30 })) }),
    );
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 12 }), (fields) => {
        const parts: Uint8Array[] = [];
        const expectedKeys: string[] = [];
        const expectedData: string[] = [];
        for (const f of fields) {
          if ('data' in f) {
            parts.push(protobufOf({ records: [{ partitionKeyIndex: 0, data: f.data }] }));
            expectedData.push(Buffer.from(f.data).toString('hex'));
          } else {
            const keyBytes = 'partitionKey' in f ? bytes(f.partitionKey) : f.rawPartitionKey;
            parts.push(Buffer.concat([Uint8Array.of(0x0a), varint(keyBytes.length), keyBytes]));
            expectedKeys.push(Buffer.from(keyBytes).toString('utf8'));
          }
        }
        const decoded = decodeAggregatedRecord(framed(Buffer.concat(parts)));
        if (expectedKeys.length === 0) {
          expect(decoded).toEqual(expectedData.length === 0 ? { partitionKeys: [], explicitHashKeys: [], records: [] } : undefined);
          return;
        }
        expect(decoded?.partitionKeys).toEqual(expectedKeys);
        expect(decoded?.records.map((r) => Buffer.from(r.data).toString('hex'))).toEqual(expectedData);
      }),
      { numRuns: 500 },
    );
  });

  describe('returns a record whose magic matches but whose content is bad whole, as one plain record', () => {
    const good = encodeAggregatedRecord([
      { partitionKey: 'k1', data: bytes('one') },
      { partitionKey: 'k2', data: bytes('two') },
    ]);
    const protobufBody = good.subarray(4, good.length - 16);
    const cases: Array<[string, Uint8Array]> = [
      ['a bad checksum', Uint8Array.from(good).map((b, i) => (i === good.length - 1 ? b ^ 0xff : b))],
      ['a truncated record', good.subarray(0, good.length - 1)],
      ['only the magic', KPL_MAGIC],
      ['a magic and a checksum of nothing: too short', good.subarray(0, 19)],
      ['a truncated protobuf', framed(protobufBody.subarray(0, protobufBody.length - 2))],
      [
        'a partition key index out of range',
        framed(protobufOf({ partitionKeyTable: ['k'], records: [{ partitionKeyIndex: 1, data: bytes('x') }] })),
      ],
      [
        'an explicit hash key index out of range',
        framed(protobufOf({ partitionKeyTable: ['k'], records: [{ partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: bytes('x') }] })),
      ],
      ['a record without data', framed(Uint8Array.of(0x0a, 1, 0x6b, 0x1a, 2, 0x08, 0x00))],
      ['a record without partition key index', framed(Uint8Array.of(0x0a, 1, 0x6b, 0x1a, 3, 0x1a, 1, 0x78))],
      ['a tag without its required key', framed(Uint8Array.of(0x0a, 1, 0x6b, 0x1a, 9, 0x08, 0, 0x1a, 1, 0x78, 0x22, 2, 0x12, 0))],
      ['a known field with the wrong wire type', framed(Uint8Array.of(0x08, 0x01))],
      ['a group', framed(Uint8Array.of((9 << 3) | 3))],
      ['field number zero', framed(Uint8Array.of(0x02, 0x00))],
      ['a varint longer than ten bytes', framed(Uint8Array.of(0x48, ...new Array<number>(11).fill(0xff), 0x01))],
      ['a length past the end', framed(Uint8Array.of(0x0a, 0x7f, 0x61))],
      ['an LZ4 magic over a bad block', framed(Uint8Array.of(0xff, 0xff, 0xff, 0x7f, 1, 2, 3), LZ4_AGGREGATE_MAGIC)],
      ['an LZ4 magic over nothing', framed(new Uint8Array(0), LZ4_AGGREGATE_MAGIC)],
    ];
    it.each(cases)('%s', (_, data) => {
      expect(decodeAggregatedRecord(data)).toBeUndefined();
      const result = deaggregate({ data, partitionKey: 'outer', explicitHashKey: '1', sequenceNumber: '9' });
      expect(result).toEqual([{ partitionKey: 'outer', explicitHashKey: '1', data, sequenceNumber: '9', subSequenceNumber: 0 }]);
      expect(result[0]!.data).toBe(data);
    });
  });

  it('never throws on random bytes after the magic, and accepts only what protobufjs also reads', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (body, checksummed) => {
        const data = checksummed ? framed(body) : Buffer.concat([KPL_MAGIC, body]);
        expect(deaggregate({ data, partitionKey: 'outer' }).length).toBeGreaterThanOrEqual(0);
        expectAgreesWithProtobufjs(data);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on corrupted aggregates (checksum fixed up), and agrees with protobufjs', () => {
    const records = fc.array(
      fc.record({
        partitionKey: fc.string({ minLength: 1, maxLength: 8 }),
        explicitHashKey: fc.option(fc.constantFrom('1', '22'), { nil: undefined }),
        data: fc.uint8Array({ maxLength: 20 }),
      }),
      { minLength: 1, maxLength: 5 },
    );
    fc.assert(
      fc.property(
        records,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        (input, mutations) => {
          const body = Uint8Array.from(encodeAggregatedRecord(input).subarray(4, -16));
          for (const [position, value] of mutations) body[position % body.length] = value;
          const data = framed(body);
          expect(() => deaggregate({ data, partitionKey: 'outer' })).not.toThrow();
          expectAgreesWithProtobufjs(data);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('rejects data that is neither bytes nor a string with a TypeError', () => {
    expect(() => deaggregate({ data: 5 as unknown as string, partitionKey: 'k' })).toThrow(TypeError);
  });
});

/** Whatever our decoder accepts, the reference decoder reads to the same indices and data. */
function varint(value: number): Uint8Array {
  const out: number[] = [];
  for (; value >= 0x80; value >>>= 7) out.push((value & 0x7f) | 0x80);
  out.push(value);
  return Uint8Array.from(out);
}

function expectAgreesWithProtobufjs(data: Uint8Array): void {
  const ours = decodeAggregatedRecord(data);
  if (ours === undefined) return;
  const message = AggregatedRecord.toObject(AggregatedRecord.decode(data.subarray(4, data.length - 16)), { longs: Number }) as {
    partitionKeyTable?: string[];
    explicitHashKeyTable?: string[];
    records?: Array<{ partitionKeyIndex: number; explicitHashKeyIndex?: number; data: Uint8Array }>;
  };
  expect(ours.partitionKeys.length).toBe(message.partitionKeyTable?.length ?? 0);
  expect(ours.explicitHashKeys.length).toBe(message.explicitHashKeyTable?.length ?? 0);
  expect(ours.records.map((r) => [r.partitionKeyIndex, r.explicitHashKeyIndex, Buffer.from(r.data).toString('hex')])).toEqual(
    (message.records ?? []).map((r) => [r.partitionKeyIndex, r.explicitHashKeyIndex, Buffer.from(r.data).toString('hex')]),
  );
}

describe('deaggregate keys', () => {
  it('are copies: keeping one key of each aggregate does not keep its key table alive', () => {
    const AGGREGATES = 400;
    const KEYS_PER_AGGREGATE = 300;
    const data = new Uint8Array(10);
    const aggregates = Array.from({ length: AGGREGATES }, (_, a) =>
      encodeAggregatedRecord(
        Array.from({ length: KEYS_PER_AGGREGATE }, (_, k) => ({ partitionKey: `device-${a}-${k}-`.padEnd(36, 'x'), data })),
      ),
    );
    const before = memoryAfterGc().heapUsed;
    const kept = aggregates.map((bytes) => (deaggregate({ data: bytes, partitionKey: 'a' })[0] as { partitionKey: string }).partitionKey);
    const grown = memoryAfterGc().heapUsed - before;
    expect(kept).toHaveLength(AGGREGATES);
    // Views into the decoded tables would hold 400 x about 11.4 KB, 4.5 MB; copies hold about 30 KB.
    expect(grown).toBeLessThan(1_500_000);
  });
});
