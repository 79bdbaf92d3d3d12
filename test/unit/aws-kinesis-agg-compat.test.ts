/**
 * Compatibility with aws-kinesis-agg (the AWS Labs Node module for the KPL format), both ways:
 * its deaggregator reads our aggregates, and our deaggregate() reads its aggregates.
 *
 * aws-kinesis-agg has bugs, pinned by the tests at the end so that a fixed version shows up:
 * 1. Its aggregate builds the key tables as plain objects and writes them out with
 *    Object.keys(). JavaScript orders integer-like keys ("1", "10", not "01") first, ascending,
 *    while the records keep insertion-order indices: records get each other's partition keys,
 *    and explicit hash keys below 2^32 - 1 (all decimal, so all integer-like) get shuffled too.
 *    A key named "__proto__" is worse still: assigning it sets the table object's prototype.
 * 2. Its aggregate sends the Kinesis record with the first record's explicit hash key, and with
 *    none at all when the first record has none, even if later ones do.
 * 3. It counts partition key and explicit hash key sizes in UTF-16 code units, not UTF-8 bytes,
 *    so with non-ASCII keys its aggregates can grow past the size it means to keep them under.
 * 4. Its deaggregate gives every record that has no explicit hash key the table's first one
 *    (protobufjs decodes the missing index as 0).
 * The round-trip properties below therefore keep integer-like keys (explicit hash keys below
 * 2^32 - 1 among them) and "__proto__" out of what aws-kinesis-agg encodes, and compare explicit
 * hash keys from its deaggregate only for records that have one.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AggregateBuilder, encodeAggregatedRecord, LZ4_AGGREGATE_MAGIC } from '../../src/format/aggregated-record.js';
import { deaggregate } from '../../src/format/deaggregate.js';

interface AggInputRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Buffer;
}
interface AggEncodedRecord {
  partitionKey: string;
  ExplicitHashKey?: string;
  data: Buffer;
}
interface AggUserRecord {
  partitionKey: string;
  explicitPartitionKey?: string;
  sequenceNumber?: string;
  subSequenceNumber?: number;
  data: string;
}
interface AwsKinesisAgg {
  aggregate(
    records: AggInputRecord[],
    onEncoded: (encoded: AggEncodedRecord, done: (error?: Error) => void) => void,
    afterAll: () => void,
    onError: (error: Error) => void,
  ): void;
  deaggregateSync(
    record: { partitionKey: string; data: Buffer | string; sequenceNumber?: string; explicitPartitionKey?: string },
    computeChecksums: boolean,
    callback: (error: Error | null | undefined, records?: AggUserRecord[]) => void,
  ): void;
  RecordAggregator: new () => { calculateUserRecordSize(record: AggInputRecord): number };
}

const agg = createRequire(import.meta.url)('aws-kinesis-agg') as AwsKinesisAgg;

function aggAggregate(records: AggInputRecord[]): Promise<AggEncodedRecord[]> {
  return new Promise((resolve, reject) => {
    const encoded: AggEncodedRecord[] = [];
    agg.aggregate(
      records.map((r) => ({ ...r })),
      (record, done) => {
        encoded.push(record);
        done();
      },
      () => resolve(encoded),
      reject,
    );
  });
}

function aggDeaggregate(record: { partitionKey: string; data: Buffer | string; sequenceNumber?: string }): AggUserRecord[] {
  let result: AggUserRecord[] | undefined;
  agg.deaggregateSync(record, true, (error, records) => {
    if (error) throw error;
    result = records;
  });
  return result!;
}

const hex = (data: Uint8Array | string): string =>
  (typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data)).toString('hex');

/** Canonical array indices: the keys Object.keys() moves to the front. */
const isArrayIndex = (key: string): boolean => /^(0|[1-9]\d*)$/.test(key) && Number(key) < 2 ** 32 - 1;

const hashKey = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(String), fc.constantFrom('0', '1', '10', '007'));
const anyKey = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
  fc.constantFrom('1', '01', '10', '2', '0', 'a'),
);
const recordsArbitrary = (key: fc.Arbitrary<string>, explicitHashKey: fc.Arbitrary<string> = hashKey) =>
  fc.array(
    fc.record({
      partitionKey: key,
      explicitHashKey: fc.option(explicitHashKey, { nil: undefined }),
      data: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    }),
    { minLength: 1, maxLength: 30 },
  );
/** Without explicit hash keys set to undefined: aws-kinesis-agg tests `record.explicitHashKey` for truthiness only. */
const withoutUndefined = (records: Array<{ partitionKey: string; explicitHashKey: string | undefined; data: Buffer }>): AggInputRecord[] =>
  records.map(({ partitionKey, explicitHashKey, data }) =>
    explicitHashKey === undefined ? { partitionKey, data } : { partitionKey, explicitHashKey, data },
  );

describe('aws-kinesis-agg reads our aggregates', () => {
  it('recovers every record, in order, with checksums verified', () => {
    fc.assert(
      fc.property(recordsArbitrary(anyKey), (records) => {
        const data = Buffer.from(encodeAggregatedRecord(records));
        const theirs = aggDeaggregate({ partitionKey: 'a', data, sequenceNumber: '42' });
        expect(theirs.map((r) => [r.partitionKey, hex(r.data), r.sequenceNumber, r.subSequenceNumber])).toEqual(
          records.map((r, i) => [r.partitionKey, hex(r.data), '42', i]),
        );
        records.forEach((record, i) => {
          if (record.explicitHashKey !== undefined) expect(theirs[i]!.explicitPartitionKey).toBe(record.explicitHashKey);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('reads what AggregateBuilder writes, and a single record as plain data', () => {
    const builder = new AggregateBuilder();
    builder.tryAdd('k1', undefined, Buffer.from('one'), 51200);
    builder.tryAdd('k2', '99', Buffer.from('two'), 51200);
    const aggregate = builder.finish(Uint32Array.of(0, 0, 0, 7), 0);
    expect(aggregate.explicitHashKey).toBe('7');
    const theirs = aggDeaggregate({ partitionKey: aggregate.partitionKey, data: Buffer.from(aggregate.data) });
    expect(theirs.map((r) => [r.partitionKey, Buffer.from(r.data, 'base64').toString()])).toEqual([
      ['k1', 'one'],
      ['k2', 'two'],
    ]);
    builder.tryAdd('solo', undefined, Buffer.from('alone'), 51200);
    const plain = builder.finish(Uint32Array.of(0, 0, 0, 0), 0);
    const base64 = Buffer.from(plain.data).toString('base64');
    expect(aggDeaggregate({ partitionKey: plain.partitionKey, data: base64 })).toMatchObject([{ partitionKey: 'solo', data: base64 }]);
  });

  it('passes our LZ4 aggregates through as plain data instead of misreading them', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({
      partitionKey: `k${i % 3}`,
      data: Buffer.from(JSON.stringify({ i, reading: 'the same text again and again' })),
    }));
    const data = Buffer.from(encodeAggregatedRecord(records, { compression: 'lz4' }));
    expect([...data.subarray(0, 4)]).toEqual([...LZ4_AGGREGATE_MAGIC]);
    const theirs = aggDeaggregate({ partitionKey: 'a', data });
    expect(theirs).toHaveLength(1);
    expect(hex(theirs[0]!.data)).toBe(hex(data));
  });
});

describe('we read aws-kinesis-agg aggregates', () => {
  it('recovers every record, in order, with the explicit hash keys it holds', async () => {
    const safeKey = anyKey.filter((key) => !isArrayIndex(key) && key !== '__proto__');
    await fc.assert(
      fc.asyncProperty(
        recordsArbitrary(
          safeKey,
          hashKey.filter((key) => !isArrayIndex(key)),
        ),
        async (records) => {
          const encoded = await aggAggregate(withoutUndefined(records));
          expect(encoded).toHaveLength(1);
          const ours = deaggregate({ partitionKey: encoded[0]!.partitionKey, data: encoded[0]!.data, sequenceNumber: '7' });
          expect(ours.map((r) => [r.partitionKey, r.explicitHashKey, hex(r.data), r.sequenceNumber, r.subSequenceNumber])).toEqual(
            records.map((r, i) => [r.partitionKey, r.explicitHashKey, hex(r.data), '7', i]),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads the base64 form a Lambda event carries', async () => {
    const [encoded] = await aggAggregate([
      { partitionKey: 'x', data: Buffer.from('1') },
      { partitionKey: 'y', data: Buffer.from('2') },
    ]);
    const ours = deaggregate({ partitionKey: encoded!.partitionKey, data: encoded!.data.toString('base64') });
    expect(ours.map((r) => [r.partitionKey, Buffer.from(r.data).toString()])).toEqual([
      ['x', '1'],
      ['y', '2'],
    ]);
  });
});

describe('aws-kinesis-agg bugs (pinned; a fixed version fails here)', () => {
  it('1. its aggregate swaps keys when some are integer-like', async () => {
    const [encoded] = await aggAggregate([
      { partitionKey: 'b', data: Buffer.from('for b') },
      { partitionKey: '10', data: Buffer.from('for 10') },
      { partitionKey: '01', data: Buffer.from('for 01') },
      { partitionKey: '1', data: Buffer.from('for 1') },
    ]);
    const ours = deaggregate({ partitionKey: 'a', data: encoded!.data });
    // Table written as Object.keys({ b: 0, 10: 1, '01': 2, 1: 3 }) = ['1', '10', 'b', '01'].
    expect(ours.map((r) => [r.partitionKey, Buffer.from(r.data).toString()])).toEqual([
      ['1', 'for b'],
      ['10', 'for 10'],
      ['b', 'for 01'],
      ['01', 'for 1'],
    ]);
    const [hashKeys] = await aggAggregate([
      { partitionKey: 'p', explicitHashKey: '9', data: Buffer.from('for 9') },
      { partitionKey: 'p', explicitHashKey: '3', data: Buffer.from('for 3') },
    ]);
    expect(
      deaggregate({ partitionKey: 'a', data: hashKeys!.data }).map((r) => [r.explicitHashKey, Buffer.from(r.data).toString()]),
    ).toEqual([
      ['3', 'for 9'],
      ['9', 'for 3'],
    ]);
  });

  it("2. its aggregate takes the Kinesis record's explicit hash key from the first record only", async () => {
    const [firstWithout] = await aggAggregate([
      { partitionKey: 'a', data: Buffer.from('1') },
      { partitionKey: 'b', explicitHashKey: '123', data: Buffer.from('2') },
    ]);
    expect(firstWithout!.ExplicitHashKey).toBeUndefined();
    const [firstWith] = await aggAggregate([
      { partitionKey: 'a', explicitHashKey: '5', data: Buffer.from('1') },
      { partitionKey: 'b', explicitHashKey: '123', data: Buffer.from('2') },
    ]);
    expect(firstWith!.ExplicitHashKey).toBe('5');
    // The sub-records keep their own keys either way.
    expect(deaggregate({ partitionKey: 'a', data: firstWithout!.data }).map((r) => r.explicitHashKey)).toEqual([undefined, '123']);
  });

  it('3. it counts key sizes in UTF-16 code units, under-counting non-ASCII keys', () => {
    const key = '分'.repeat(256);
    const record = { partitionKey: key, data: Buffer.from('x') };
    const theirEstimate = new agg.RecordAggregator().calculateUserRecordSize(record);
    const actual = encodeAggregatedRecord([record]).length - 20; // minus magic and MD5: the protobuf
    expect(Buffer.byteLength(key)).toBe(768);
    expect(actual - theirEstimate).toBe(768 - 256);
    // Ours counts UTF-8 bytes: exact.
    const builder = new AggregateBuilder();
    builder.tryAdd(key, undefined, record.data, 51200);
    builder.tryAdd(key, undefined, record.data, 51200);
    expect(builder.size).toBe(encodeAggregatedRecord([record, record]).length + 1);
  });

  it("4. its deaggregate gives records without an explicit hash key the table's first one", () => {
    const data = Buffer.from(
      encodeAggregatedRecord([
        { partitionKey: 'a', data: Buffer.from('1') },
        { partitionKey: 'b', explicitHashKey: '123', data: Buffer.from('2') },
        { partitionKey: 'c', data: Buffer.from('3') },
      ]),
    );
    expect(aggDeaggregate({ partitionKey: 'a', data }).map((r) => r.explicitPartitionKey)).toEqual(['123', '123', '123']);
    expect(deaggregate({ partitionKey: 'a', data }).map((r) => r.explicitHashKey)).toEqual([undefined, '123', undefined]);
  });
});
