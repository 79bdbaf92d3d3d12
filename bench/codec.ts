/**
 * The aggregated-record codec against aws-kinesis-agg (the AWS Labs Node module), in one run:
 * encode and deaggregate throughput in user records per second, for 100 B and 1 KiB records,
 * with distinct and with shared partition keys. Also the MD5 options for partition keys, and the
 * bytes LZ4 saves on JSON telemetry.
 *
 * Encode counts what a producer pays per record: hashing its partition key (ours; the producer
 * needs the hash key to pick the shard), key de-duplication, the protobuf, and the MD5 trailer.
 * Ours closes aggregates at the KPL default aggregationMaxSize (51,200 bytes), so it pays the
 * per-aggregate costs about 20 times as often as aws-kinesis-agg, which fills 1 MiB aggregates.
 * Deaggregate reads the same aggregates for both, as Buffers, and verifies checksums for both.
 *
 *   npm run build && node dist/bench/codec.js
 */
import * as crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { AggregateBuilder, encodeAggregatedRecord } from '../src/format/aggregated-record.js';
import { deaggregate } from '../src/format/deaggregate.js';
import { hashPartitionKey } from '../src/format/hash-key.js';
import { md5Utf8 } from '../src/format/md5.js';
import { createRandom } from '../src/testing/random.js';
import { median } from './support/median.js';

/** The parts of aws-kinesis-agg the bench calls (its bundled typings need aws-sdk v2). */
interface AwsKinesisAgg {
  aggregate(
    records: Array<{ partitionKey: string; data: Buffer }>,
    onEncoded: (encoded: { partitionKey: string; data: Buffer }, done: (error?: Error) => void) => void,
    afterAll: () => void,
    onError: (error: Error) => void,
  ): void;
  deaggregateSync(
    record: { partitionKey: string; data: Buffer | string },
    computeChecksums: boolean,
    callback: (error: Error | null, records?: unknown[]) => void,
  ): void;
}

/** Throughput of one operation, ours against aws-kinesis-agg's, in user records per second (medians). */
export interface CodecComparison {
  ours: number;
  awsKinesisAgg: number;
  /** ours / awsKinesisAgg: the median of the per-round ratios, each from back-to-back measurements. */
  ratio: number;
}

/** One record size and key pattern. */
export interface CodecScenarioResult {
  recordBytes: number;
  keys: 'distinct' | 'shared';
  /** Ours includes hashing every partition key, as the producer must to pick the shard. */
  encode: CodecComparison;
  /** Ours without hashing keys: the same work as aws-kinesis-agg's aggregate. */
  encodeWithoutKeyHashing: CodecComparison;
  /**
   * Records per second if a codec did nothing but the MD5 the format requires over every
   * aggregate byte (on encode, and on deaggregate with checksums verified): the ceiling for both
   * libraries. aws-kinesis-agg at x% of it leaves at most 100/x times as much to gain.
   */
  md5Ceiling: number;
  /**
   * The same ceiling for encode with key hashing: the MD5 trailer plus hashPartitionKey for every
   * record (its keys-never-repeating rate for distinct keys, its keys-repeating rate for shared
   * ones), measured in the same run. aws-kinesis-agg does not hash each record's key.
   */
  md5CeilingWithKeyHashing: number;
  /**
   * Records per second of an encoder doing only what no encoder of this format can skip, measured
   * in the same run: allocating each of our aggregates, copying every record's data into it, and
   * the MD5 trailer (no keys, no protobuf fields). The encode ceiling short of copying nothing.
   */
  copyAndMd5Ceiling: number;
  deaggregate: CodecComparison;
}

/** The whole run. */
export interface CodecBenchResult {
  scenarios: CodecScenarioResult[];
  /** Partition keys hashed per second by each MD5 option (36-character keys, and 256-character keys). */
  md5: Array<{ option: string; keyLength: number; keysPerSecond: number }>;
  /** One aggregate of JSON telemetry, with and without LZ4. */
  lz4: { records: number; averageRecordBytes: number; plainBytes: number; compressedBytes: number; savedPercent: number };
}

/** Options of {@link runCodecBench}. */
export interface CodecBenchOptions {
  /** Milliseconds tinybench spends on each task, over all rounds. @default 1000 */
  timeMs?: number;
  /** Rounds of every task; figures are medians over rounds. @default 3 */
  rounds?: number;
}

const RECORDS_PER_ITERATION = 10_000;
const SHARED_KEYS = 16;
const AGGREGATION_MAX_SIZE = 51_200;
const RECORD_SIZES = [100, 1024] as const;
const KEY_PATTERNS = ['distinct', 'shared'] as const;

interface BenchRecord {
  partitionKey: string;
  data: Buffer;
}

/** Runs the benchmark and returns its figures; prints nothing. */
export async function runCodecBench(options: CodecBenchOptions = {}): Promise<CodecBenchResult> {
  const agg = createRequire(import.meta.url)('aws-kinesis-agg') as AwsKinesisAgg;
  const random = createRandom(0xc0dec);
  const tasks: Array<[name: string, run: () => void | Promise<void>, recordsPerRun: number]> = [];
  let sink = 0;
  const aggregateBytesPerRecord = new Map<string, number>();
  const md5Input = Buffer.alloc(AGGREGATION_MAX_SIZE, 0x5a);
  tasks.push(['md5 aggregate bytes', () => void (sink += crypto.hash('md5', md5Input, 'buffer')[0]!), AGGREGATION_MAX_SIZE]);

  for (const recordBytes of RECORD_SIZES) {
    for (const keys of KEY_PATTERNS) {
      const records = makeRecords(RECORDS_PER_ITERATION, recordBytes, keys, random);
      const aggregates = encodeLikeTheProducer(records);
      const name = `${recordBytes} B ${keys}`;
      aggregateBytesPerRecord.set(name, aggregates.reduce((sum, a) => sum + a.length, 0) / records.length);
      const recordsPerAggregate = aggregates.map((data) => deaggregate({ data, partitionKey: 'a' }).length);
      tasks.push([
        `copy and md5 ${name}`,
        () => {
          let next = 0;
          for (let a = 0; a < aggregates.length; a++) {
            const out = Buffer.allocUnsafe(aggregates[a]!.length);
            let position = 0;
            for (const end = next + recordsPerAggregate[a]!; next < end; next++) {
              const { data } = records[next]!;
              out.set(data, position);
              position += data.length;
            }
            sink += crypto.hash('md5', out, 'buffer')[0]!;
          }
        },
        RECORDS_PER_ITERATION,
      ]);

      const builder = new AggregateBuilder();
      const hashKey = new Uint32Array(4);
      const firstHashKey = new Uint32Array(4);
      tasks.push([
        `encode ours ${name}`,
        () => {
          encodeWith(builder, records, hashKey, firstHashKey, (record) => {
            sink += record.data.length;
          });
        },
        RECORDS_PER_ITERATION,
      ]);
      tasks.push([
        `encode ours without key hashing ${name}`,
        () => {
          encodeWith(builder, records, undefined, firstHashKey, (record) => {
            sink += record.data.length;
          });
        },
        RECORDS_PER_ITERATION,
      ]);
      tasks.push([
        `encode aws-kinesis-agg ${name}`,
        () =>
          new Promise<void>((resolve, reject) => {
            agg.aggregate(
              records,
              (encoded, done) => {
                sink += encoded.data.length;
                done();
              },
              resolve,
              reject,
            );
          }),
        RECORDS_PER_ITERATION,
      ]);
      tasks.push([
        `deaggregate ours ${name}`,
        () => {
          for (const data of aggregates) sink += deaggregate({ data, partitionKey: 'a' }).length;
        },
        RECORDS_PER_ITERATION,
      ]);
      tasks.push([
        `deaggregate aws-kinesis-agg ${name}`,
        () => {
          for (const data of aggregates) {
            agg.deaggregateSync({ data, partitionKey: 'a' }, true, (error, userRecords) => {
              if (error) throw error;
              sink += userRecords!.length;
            });
          }
        },
        RECORDS_PER_ITERATION,
      ]);
    }
  }

  const md5Keys = Array.from({ length: 1024 }, () => uuidLike(random));
  const longKeys = md5Keys.map((key) => key.repeat(8).slice(0, 256));
  // 1,024 keys in turn repeat within the cache of hashPartitionKey; these, taken in a rolling
  // window, never do (its cache holds 4,096), so that line shows what the cache costs a miss.
  const neverRepeating = Array.from({ length: 64 * 1024 }, () => uuidLike(random));
  const neverRepeatingLong = neverRepeating.map((key) => key.repeat(8).slice(0, 256));
  let next = 0;
  const words = new Uint32Array(4);
  const md5Options: Array<[string, (key: string) => void]> = [
    ['pure JS (ours)', (key) => void md5Utf8(key, words, 0)],
    ['hashPartitionKey, keys repeating', (key) => hashPartitionKey(key, words, 0)],
    [
      'hashPartitionKey, keys never repeating',
      (key) => {
        next = (next + 1) & (neverRepeating.length - 1);
        hashPartitionKey(key.length > 36 ? neverRepeatingLong[next]! : neverRepeating[next]!, words, 0);
      },
    ],
    ["crypto.hash('md5', key)", (key) => (sink += crypto.hash('md5', key).length)],
    ["crypto.hash('md5', key, 'buffer')", (key) => (sink += crypto.hash('md5', key, 'buffer')[0]!)],
    ["createHash('md5').update(key).digest()", (key) => (sink += crypto.createHash('md5').update(key).digest()[0]!)],
  ];
  for (const [option, hashOne] of md5Options) {
    for (const keys of [md5Keys, longKeys]) {
      tasks.push([
        `md5 ${option} ${keys[0]!.length}`,
        () => {
          for (const key of keys) hashOne(key);
        },
        keys.length,
      ]);
    }
  }

  // Several short rounds, each running every task once, so that a change in machine load
  // during the run affects both sides of a comparison alike; each figure is the median over rounds.
  const rounds = options.rounds ?? 3;
  const samples = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      time: (options.timeMs ?? 1000) / rounds,
      iterations: 5,
      warmupTime: 100,
      warmupIterations: 2,
      throws: true,
    });
    for (const [name, run] of tasks) bench.add(name, run);
    await bench.run();
    for (const [name, , recordsPerRun] of tasks) {
      const result = bench.getTask(name)?.result;
      if (result === undefined || !('throughput' in result)) throw new Error(`task ${name} has no result`);
      samples.set(name, [...(samples.get(name) ?? []), result.throughput.p50 * recordsPerRun]);
    }
  }
  if (Number.isNaN(sink)) throw new Error('unreachable: keeps the work from being optimised away');

  const perSecond = (task: string): number => median(samples.get(task)!);
  const compareWith = (oursTask: string, theirsTask: string, name: string): CodecComparison => {
    const ours = samples.get(`${oursTask} ${name}`)!;
    const theirs = samples.get(`${theirsTask} ${name}`)!;
    return { ours: median(ours), awsKinesisAgg: median(theirs), ratio: median(ours.map((o, round) => o / theirs[round]!)) };
  };
  const compare = (operation: string, name: string): CodecComparison =>
    compareWith(`${operation} ours`, `${operation} aws-kinesis-agg`, name);
  const scenarios = RECORD_SIZES.flatMap((recordBytes) =>
    KEY_PATTERNS.map((keys) => ({
      recordBytes,
      keys,
      encode: compare('encode', `${recordBytes} B ${keys}`),
      encodeWithoutKeyHashing: compareWith('encode ours without key hashing', 'encode aws-kinesis-agg', `${recordBytes} B ${keys}`),
      deaggregate: compare('deaggregate', `${recordBytes} B ${keys}`),
      md5Ceiling: perSecond('md5 aggregate bytes') / aggregateBytesPerRecord.get(`${recordBytes} B ${keys}`)!,
      md5CeilingWithKeyHashing:
        1 /
        (aggregateBytesPerRecord.get(`${recordBytes} B ${keys}`)! / perSecond('md5 aggregate bytes') +
          1 / perSecond(`md5 hashPartitionKey, keys ${keys === 'distinct' ? 'never repeating' : 'repeating'} 36`)),
      copyAndMd5Ceiling: perSecond(`copy and md5 ${recordBytes} B ${keys}`),
    })),
  );
  const md5 = md5Options.flatMap(([option]) =>
    [md5Keys, longKeys].map((keys) => ({
      option,
      keyLength: keys[0]!.length,
      keysPerSecond: perSecond(`md5 ${option} ${keys[0]!.length}`),
    })),
  );
  return { scenarios, md5, lz4: measureLz4(random) };
}

/**
 * Aggregates records as the producer's aggregator does; returns how many records it took.
 * Without `hashKey` it skips hashing partition keys, leaving the work aws-kinesis-agg does.
 */
function encodeWith(
  builder: AggregateBuilder,
  records: readonly BenchRecord[],
  hashKey: Uint32Array | undefined,
  firstHashKey: Uint32Array,
  emit: (record: { data: Uint8Array }) => void,
): number {
  for (const { partitionKey, data } of records) {
    if (hashKey !== undefined) hashPartitionKey(partitionKey, hashKey, 0);
    if (builder.count > 0 && !builder.tryAdd(partitionKey, undefined, data, AGGREGATION_MAX_SIZE)) {
      emit(builder.finish(firstHashKey, 0));
    }
    if (builder.count === 0) {
      if (hashKey !== undefined) firstHashKey.set(hashKey);
      builder.tryAdd(partitionKey, undefined, data, AGGREGATION_MAX_SIZE);
    }
  }
  emit(builder.finish(firstHashKey, 0));
  return records.length;
}

function encodeLikeTheProducer(records: readonly BenchRecord[]): Buffer[] {
  const aggregates: Buffer[] = [];
  encodeWith(new AggregateBuilder(), records, new Uint32Array(4), new Uint32Array(4), ({ data }) =>
    aggregates.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
  );
  return aggregates;
}

/** 200 telemetry readings of about 150 bytes of JSON, the kind of record an IoT gateway forwards. */
function measureLz4(random: () => number): CodecBenchResult['lz4'] {
  const records = Array.from({ length: 200 }, (_, i) => {
    const reading = {
      deviceId: `gw-07/sensor-${String(Math.floor(random() * 64)).padStart(3, '0')}`,
      ts: 1_731_000_000_000 + i * 250,
      temperatureC: Math.round((18 + random() * 8) * 100) / 100,
      humidityPct: Math.round((35 + random() * 20) * 10) / 10,
      batteryV: Math.round((3.6 + random() * 0.5) * 1000) / 1000,
      status: random() < 0.95 ? 'ok' : 'degraded',
    };
    return { partitionKey: reading.deviceId, data: Buffer.from(JSON.stringify(reading)) };
  });
  const plainBytes = encodeAggregatedRecord(records).length;
  const compressedBytes = encodeAggregatedRecord(records, { compression: 'lz4' }).length;
  const averageRecordBytes = records.reduce((sum, r) => sum + r.data.length, 0) / records.length;
  return {
    records: records.length,
    averageRecordBytes,
    plainBytes,
    compressedBytes,
    savedPercent: (1 - compressedBytes / plainBytes) * 100,
  };
}

function makeRecords(count: number, recordBytes: number, keys: 'distinct' | 'shared', random: () => number): BenchRecord[] {
  const sharedKeys = Array.from({ length: SHARED_KEYS }, () => uuidLike(random));
  return Array.from({ length: count }, (_, i) => {
    const data = Buffer.allocUnsafe(recordBytes);
    for (let b = 0; b < recordBytes; b++) data[b] = Math.floor(random() * 256);
    return { partitionKey: keys === 'distinct' ? uuidLike(random) : sharedKeys[i % SHARED_KEYS]!, data };
  });
}

/** A 36-character key shaped like a UUID, the most common partition key. */
function uuidLike(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M/s` : `${(perSecond / 1e3).toFixed(0)}k/s`;
}

/** The figures as the table BENCHMARKS.md shows. */
export function formatCodecBench(result: CodecBenchResult): string {
  const lines = [
    'user records/s              records                     ours   aws-kinesis-agg   ratio',
    ...result.scenarios.flatMap((s) =>
      (
        [
          ['encode (with key hashing)', s.encode],
          ['encode (codec only)', s.encodeWithoutKeyHashing],
          ['deaggregate', s.deaggregate],
        ] as const
      ).map(([operation, c]) => {
        const records = `${s.recordBytes} B, ${s.keys} keys`;
        return `${operation.padEnd(28)}${records.padEnd(23)}${formatRate(c.ours).padStart(9)}  ${formatRate(c.awsKinesisAgg).padStart(16)}  ${c.ratio.toFixed(1).padStart(5)}x`;
      }),
    ),
    '',
    'MD5 ceilings: records/s of a codec doing nothing but the MD5 the format needs over the aggregate bytes;',
    'with key hashing, also hashPartitionKey per record. Over aws-kinesis-agg: the most any codec can be ahead.',
    'records                  MD5 ceiling  over theirs (encode / deaggregate)   with key hashing  over theirs',
    ...result.scenarios.map(
      (s) =>
        `${`${s.recordBytes} B, ${s.keys} keys`.padEnd(25)}${formatRate(s.md5Ceiling).padStart(11)}  ` +
        `${`${(s.md5Ceiling / s.encode.awsKinesisAgg).toFixed(1)}x / ${(s.md5Ceiling / s.deaggregate.awsKinesisAgg).toFixed(1)}x`.padStart(33)}   ` +
        `${formatRate(s.md5CeilingWithKeyHashing).padStart(16)}  ${`${(s.md5CeilingWithKeyHashing / s.encode.awsKinesisAgg).toFixed(1)}x`.padStart(11)}`,
    ),
    '',
    'Encode floor: records/s of an encoder that only allocates each aggregate, copies the data in and MD5s it.',
    'records                  copy + MD5  over theirs  ours (codec only) at',
    ...result.scenarios.map(
      (s) =>
        `${`${s.recordBytes} B, ${s.keys} keys`.padEnd(25)}${formatRate(s.copyAndMd5Ceiling).padStart(10)}  ` +
        `${`${(s.copyAndMd5Ceiling / s.encode.awsKinesisAgg).toFixed(1)}x`.padStart(11)}  ` +
        `${`${((100 * s.encodeWithoutKeyHashing.ours) / s.copyAndMd5Ceiling).toFixed(0)} %`.padStart(20)}`,
    ),
    '',
    'MD5 of a partition key                     36 chars   256 chars',
    ...[...new Set(result.md5.map((m) => m.option))].map((option) => {
      const rates = result.md5.filter((m) => m.option === option).map((m) => formatRate(m.keysPerSecond).padStart(10));
      return `${option.padEnd(40)} ${rates.join('  ')}`;
    }),
    '',
    `LZ4: ${result.lz4.records} JSON records of ${result.lz4.averageRecordBytes.toFixed(0)} B on average: ` +
      `${result.lz4.plainBytes} B plain, ${result.lz4.compressedBytes} B compressed, ${result.lz4.savedPercent.toFixed(1)}% saved`,
  ];
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatCodecBench(await runCodecBench()));
}
