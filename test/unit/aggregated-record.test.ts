import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  AGGREGATE_PARTITION_KEY,
  AggregateBuilder,
  decodeAggregatedRecord,
  encodeAggregatedRecord,
  KPL_MAGIC,
  LZ4_AGGREGATE_MAGIC,
} from '../../src/format/aggregated-record.js';
import { hashKeyToDecimal, hashPartitionKey } from '../../src/format/hash-key.js';
import { MAX_RECORD_BYTES } from '../../src/format/limits.js';

const protoPath = fileURLToPath(new URL('../../proto/kpl.proto', import.meta.url));
const AggregatedRecord = protobuf.loadSync(protoPath).lookupType('aws.kinesis.protobuf.AggregatedRecord');

interface InputRecord {
  partitionKey: string;
  explicitHashKey?: string | undefined;
  data: Uint8Array;
}

interface ProtobufRecord {
  partitionKeyIndex: { toNumber(): number } | number;
  explicitHashKeyIndex?: { toNumber(): number } | number | null;
  data: Uint8Array;
}

const asNumber = (value: { toNumber(): number } | number): number => (typeof value === 'number' ? value : value.toNumber());

/** Decodes with protobufjs and proto/kpl.proto: the reference reader. */
function decodeWithProtobufjs(aggregate: Uint8Array): InputRecord[] {
  expect([...aggregate.subarray(0, 4)]).toEqual([...KPL_MAGIC]);
  const body = aggregate.subarray(4, aggregate.length - 16);
  expect(Buffer.from(aggregate.subarray(aggregate.length - 16))).toEqual(createHash('md5').update(body).digest());
  const message = AggregatedRecord.toObject(AggregatedRecord.decode(body), { defaults: false }) as {
    partitionKeyTable?: string[];
    explicitHashKeyTable?: string[];
    records?: ProtobufRecord[];
  };
  const keys = message.partitionKeyTable ?? [];
  const hashKeys = message.explicitHashKeyTable ?? [];
  return (message.records ?? []).map((record) => {
    const hashIndex = record.explicitHashKeyIndex;
    return {
      partitionKey: keys[asNumber(record.partitionKeyIndex)]!,
      explicitHashKey: hashIndex === undefined || hashIndex === null ? undefined : hashKeys[asNumber(hashIndex)]!,
      data: new Uint8Array(record.data),
    };
  });
}

function decodeWithOurs(aggregate: Uint8Array): InputRecord[] {
  const decoded = decodeAggregatedRecord(aggregate);
  expect(decoded).toBeDefined();
  return decoded!.records.map((record) => ({
    partitionKey: decoded!.partitionKeys[record.partitionKeyIndex]!,
    explicitHashKey: record.explicitHashKeyIndex === undefined ? undefined : decoded!.explicitHashKeys[record.explicitHashKeyIndex]!,
    data: new Uint8Array(record.data),
  }));
}

/** Data as hex, so that records near 1 MiB compare quickly. */
const normalise = (records: readonly InputRecord[]): Array<{ partitionKey: string; explicitHashKey: string | undefined; data: string }> =>
  records.map((r) => ({ partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, data: Buffer.from(r.data).toString('hex') }));

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const partitionKeyArbitrary = fc.oneof(
  fc.constantFrom('1', '01', '10', '2', '0', '-1', '1.5', 'a', 'constructor', '__proto__', 'toString'),
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }),
  fc.nat().map(String),
);
const explicitHashKeyArbitrary = fc.option(
  fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(String),
    fc.constantFrom('0', '1', '01', '340282366920938463463374607431768211455'),
  ),
  { nil: undefined, freq: 2 },
);
const recordArbitrary = fc.record({
  partitionKey: partitionKeyArbitrary,
  explicitHashKey: explicitHashKeyArbitrary,
  data: fc.oneof(fc.uint8Array({ maxLength: 0 }), fc.uint8Array({ maxLength: 300 })),
});

describe('encodeAggregatedRecord / decodeAggregatedRecord', () => {
  it('writes magic, protobuf and the MD5 of the protobuf, readable by protobufjs', () => {
    const records = [
      { partitionKey: 'k1', data: bytes('one') },
      { partitionKey: 'k2', explicitHashKey: '123', data: bytes('two') },
      { partitionKey: 'k1', data: bytes('three') },
    ];
    const aggregate = encodeAggregatedRecord(records);
    expect(normalise(decodeWithProtobufjs(aggregate))).toEqual(normalise(records));
    expect(normalise(decodeWithOurs(aggregate))).toEqual(normalise(records));
    const decoded = decodeAggregatedRecord(aggregate)!;
    expect(decoded.partitionKeys).toEqual(['k1', 'k2']);
    expect(decoded.explicitHashKeys).toEqual(['123']);
    expect(decoded.records.map((r) => [r.partitionKeyIndex, r.explicitHashKeyIndex])).toEqual([
      [0, undefined],
      [1, 0],
      [0, undefined],
    ]);
  });

  it('round-trips any list of records, in order, through our decoder and protobufjs', () => {
    fc.assert(
      fc.property(fc.array(recordArbitrary, { maxLength: 40 }), (records) => {
        const aggregate = encodeAggregatedRecord(records);
        expect(normalise(decodeWithOurs(aggregate))).toEqual(normalise(records));
        expect(normalise(decodeWithProtobufjs(aggregate))).toEqual(normalise(records));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips data near 1 MiB', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(partitionKeyArbitrary, fc.integer({ min: MAX_RECORD_BYTES - 1024, max: MAX_RECORD_BYTES })), {
          minLength: 1,
          maxLength: 3,
        }),
        (specs) => {
          const records = specs.map(([partitionKey, size], i) => ({ partitionKey, data: new Uint8Array(size).fill(i + 1) }));
          const aggregate = encodeAggregatedRecord(records);
          expect(normalise(decodeWithOurs(aggregate))).toEqual(normalise(records));
          expect(normalise(decodeWithProtobufjs(aggregate))).toEqual(normalise(records));
        },
      ),
      { numRuns: 3 },
    );
  });

  it('round-trips through LZ4 compression', () => {
    fc.assert(
      fc.property(fc.array(recordArbitrary, { maxLength: 40 }), (records) => {
        const aggregate = encodeAggregatedRecord(records, { compression: 'lz4' });
        expect(normalise(decodeWithOurs(aggregate))).toEqual(normalise(records));
      }),
      { numRuns: 100 },
    );
  });

  it('returns undefined for anything that is not a sound aggregate', () => {
    const good = encodeAggregatedRecord([{ partitionKey: 'k', data: bytes('payload') }]);
    expect(decodeAggregatedRecord(bytes('plain data'))).toBeUndefined();
    expect(decodeAggregatedRecord(new Uint8Array(0))).toBeUndefined();
    expect(decodeAggregatedRecord(good.subarray(0, 19))).toBeUndefined();
    const badChecksum = Uint8Array.from(good);
    badChecksum[badChecksum.length - 1]! ^= 1;
    expect(decodeAggregatedRecord(badChecksum)).toBeUndefined();
  });
});

describe('AggregateBuilder', () => {
  const hashKey = new Uint32Array(4);

  it('sends one record plain, with its own key, explicit hash key and data', () => {
    const builder = new AggregateBuilder();
    const data = bytes('hello');
    expect(builder.tryAdd('key-é', '42', data, 50)).toBe(true);
    expect(builder.count).toBe(1);
    expect(builder.size).toBe(5 + 6);
    const record = builder.finish(hashKey, 0);
    expect(record).toEqual({ partitionKey: 'key-é', explicitHashKey: '42', data });
    expect(record.data).toBe(data);
    expect(builder.count).toBe(0);
    expect(builder.size).toBe(0);
  });

  it("sends a plain record's explicit hash key in the canonical form PutRecords requires", () => {
    const builder = new AggregateBuilder();
    builder.tryAdd('k', '007', bytes('x'), 100);
    expect(builder.finish(Uint32Array.of(0, 0, 0, 7), 0).explicitHashKey).toBe('7');
    builder.tryAdd('k', '0', bytes('x'), 100);
    expect(builder.finish(Uint32Array.of(0, 0, 0, 0), 0).explicitHashKey).toBe('0');
  });

  it('sends several as an aggregate under key "a", with the first record\'s hash key', () => {
    const builder = new AggregateBuilder();
    builder.tryAdd('first', undefined, bytes('1'), 51200);
    builder.tryAdd('second', undefined, bytes('2'), 51200);
    const first = new Uint32Array(8);
    hashPartitionKey('first', first, 4);
    const record = builder.finish(first, 4);
    expect(record.partitionKey).toBe(AGGREGATE_PARTITION_KEY);
    expect(record.explicitHashKey).toBe(hashKeyToDecimal(first, 4));
    expect(normalise(decodeWithProtobufjs(record.data))).toEqual(
      normalise([
        { partitionKey: 'first', data: bytes('1') },
        { partitionKey: 'second', data: bytes('2') },
      ]),
    );
  });

  it('keeps size exact, and refuses a record that would pass maxBytes without changing anything', () => {
    fc.assert(
      fc.property(fc.array(recordArbitrary, { minLength: 1, maxLength: 60 }), fc.integer({ min: 50, max: 4000 }), (records, maxBytes) => {
        const builder = new AggregateBuilder();
        const accepted: InputRecord[] = [];
        for (const record of records) {
          const before = builder.size;
          const ok = builder.tryAdd(record.partitionKey, record.explicitHashKey, record.data, maxBytes);
          if (ok) accepted.push(record);
          else expect(builder.size).toBe(before);
          if (builder.count > 1) expect(builder.size).toBeLessThanOrEqual(maxBytes);
        }
        expect(builder.count).toBe(accepted.length);
        const size = builder.size;
        const count = builder.count;
        const record = builder.finish(hashKey, 0);
        expect(record.data.length + Buffer.byteLength(record.partitionKey)).toBe(size);
        if (count === 1) return;
        expect(size).toBe(encodeAggregatedRecord(accepted).length + 1);
        expect(normalise(decodeWithProtobufjs(record.data))).toEqual(normalise(accepted));
      }),
      { numRuns: 300 },
    );
  });

  it('is reusable after finish() and reset()', () => {
    const builder = new AggregateBuilder();
    for (let round = 0; round < 3; round++) {
      const records = Array.from({ length: 200 }, (_, i) => ({ partitionKey: `r${round}-${i % 7}`, data: bytes(`${round}:${i}`) }));
      for (const r of records) expect(builder.tryAdd(r.partitionKey, undefined, r.data, 1e6)).toBe(true);
      expect(normalise(decodeWithOurs(builder.finish(hashKey, 0).data))).toEqual(normalise(records));
    }
    builder.tryAdd('x', undefined, bytes('x'), 100);
    builder.reset();
    expect(builder.count).toBe(0);
    builder.tryAdd('y', undefined, bytes('y'), 100);
    expect(builder.finish(hashKey, 0)).toEqual({ partitionKey: 'y', explicitHashKey: undefined, data: bytes('y') });
  });

  it('never builds an aggregate over 1 MiB, whatever maxBytes says', () => {
    const builder = new AggregateBuilder();
    expect(builder.tryAdd('a', undefined, new Uint8Array(600_000), 10 * MAX_RECORD_BYTES)).toBe(true);
    expect(builder.tryAdd('b', undefined, new Uint8Array(600_000), 10 * MAX_RECORD_BYTES)).toBe(false);
  });

  it('throws when finishing an empty builder', () => {
    expect(() => new AggregateBuilder().finish(hashKey, 0)).toThrow(RangeError);
  });

  it('compresses with LZ4 under its own magic when that is smaller, else writes the KPL format', () => {
    const builder = new AggregateBuilder({ compression: 'lz4' });
    const json = (i: number): Uint8Array =>
      bytes(JSON.stringify({ device: `sensor-${i % 10}`, temperature: 21.5, humidity: 40, ts: 1700000000000 + i }));
    const records = Array.from({ length: 100 }, (_, i) => ({ partitionKey: `device-${i}`, data: json(i) }));
    for (const r of records) builder.tryAdd(r.partitionKey, undefined, r.data, 51200);
    const size = builder.size;
    const compressed = builder.finish(hashKey, 0);
    expect([...compressed.data.subarray(0, 4)]).toEqual([...LZ4_AGGREGATE_MAGIC]);
    expect(compressed.data.length + 1).toBeLessThan(size);
    expect(normalise(decodeWithOurs(compressed.data))).toEqual(normalise(records));

    const random = Array.from({ length: 3 }, (_, i) => ({
      partitionKey: `r${i}`,
      data: Uint8Array.from(createHash('sha512').update(String(i)).digest()),
    }));
    for (const r of random) builder.tryAdd(r.partitionKey, undefined, r.data, 51200);
    const incompressible = builder.finish(hashKey, 0);
    expect([...incompressible.data.subarray(0, 4)]).toEqual([...KPL_MAGIC]);
    expect(normalise(decodeWithProtobufjs(incompressible.data))).toEqual(normalise(random));
  });
});
