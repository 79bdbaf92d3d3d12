/**
 * The whole producer, from add() to resolved promises, against the fast non-storing endpoint
 * (bench/support/fast-kinesis.ts) in another process. Each scenario runs in a fresh child process
 * of its own, so JIT and heap state do not leak from one into the next, and each round runs every
 * scenario once, so that the CPU per record of 4,096 shards against 4 is a ratio taken in the same
 * round.
 *
 *   npm run build && node dist/bench/pipeline.js [--runs 3] [--only NAME]
 *
 * Reports user records/s (wall clock), records per CPU-second of the producer's process (its one
 * core), how long the garbage collector paused its main thread per record (the largest single
 * cost with small records), and the heap each buffered record costs beyond its payload. First, the same loop runs
 * against a promise-only stand-in (support/promise-floor.ts) that holds two requests' worth of
 * records: the most any producer with a promise per record and the default batching can reach on
 * this machine. Adding the
 * hashing that the format and SigV4 require per record (support/inherent-costs.ts) to that floor
 * gives the ceiling of any implementation, for 100 B and 1 KiB records.
 *
 * Scenarios that name another are also given as CPU per record against it, a ratio taken round by
 * round: 4,096 shards against 4; 4 shards with 8 user records per Kinesis record (the per-record
 * part of what 4,096 shards cost, with every state warm); and the same producer with a young
 * generation four times Node's default, which shows what the garbage collector takes.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KinesisProducer } from '../src/producer.js';
import type { UserRecord, UserRecordResult } from '../src/records.js';
import { type FastKinesis, startFastKinesis } from './support/fast-kinesis.js';
import { type InherentCosts, measureInherentCosts } from './support/inherent-costs.js';
import { PromiseFloor } from './support/promise-floor.js';
import { median } from './support/median.js';

/** One measured setting. */
export interface PipelineScenario {
  readonly name: string;
  readonly shards: number;
  readonly recordBytes: number;
  readonly records: number;
  readonly metricsLevel: 'none' | 'detailed';
  /** recordMaxBufferedTime; the producer's default (100 ms) when absent. */
  readonly lingerMs?: number;
  /** aggregationMaxCount; the producer's default when absent. */
  readonly aggregationMaxCount?: number;
  /** Node options of the producer's process, e.g. a larger young generation. */
  readonly nodeOptions?: readonly string[];
  /** The scenario whose CPU per record this one's is compared with, round by round. */
  readonly comparedWith?: string;
}

/** What one scenario measured (medians over the runs). */
export interface PipelineResult {
  readonly name: string;
  readonly shards: number;
  readonly recordBytes: number;
  readonly metrics: string;
  readonly recordsPerSecond: number;
  readonly recordsPerCpuSecond: number;
  readonly userRecordsPerKinesisRecord: number;
  /** Time the main thread spent paused by the garbage collector, per user record. */
  readonly gcPauseMicroseconds: number;
  readonly peakRssMiB: number;
  readonly runs: number;
}

/** The promise-only stand-in (bench/support/promise-floor.ts) under the same loop, for one record size. */
export interface FloorResult {
  readonly recordBytes: number;
  /** Records it held at most: two requests' worth (see floorBatchRecords). */
  readonly heldRecords: number;
  readonly recordsPerSecond: number;
  readonly recordsPerCpuSecond: number;
  readonly gcPauseMicroseconds: number;
  readonly runs: number;
}

/** The most records/s any implementation could reach: the promise-only floor plus the hashing the format and SigV4 require. */
export interface CeilingResult {
  readonly recordBytes: number;
  /** Microseconds per record of each unavoidable computation. */
  readonly costs: InherentCosts;
  /** Microseconds per record of the promise-only floor (1e6 / its records per second). */
  readonly floorMicroseconds: number;
  readonly recordsPerSecond: number;
}

/** CPU per user record of one scenario against another's, e.g. 4,096 shards against 4. */
export interface CpuPerRecordRatio {
  readonly name: string;
  readonly comparedWith: string;
  /** The median over the rounds of (this scenario's CPU per record) / (the other's), both measured in the same round. */
  readonly cpuPerRecordRatio: number;
}

/** Heap held per buffered record, beyond the caller's own record object, key and data. */
export interface BufferedMemoryResult {
  readonly shards: number;
  readonly records: number;
  readonly bytesPerRecord: number;
}

/** A young generation four times Node's default (16 MiB semi-spaces on 64-bit), for the tuned rows. */
const LARGER_YOUNG_GENERATION = ['--max-semi-space-size=64'];

export const PIPELINE_SCENARIOS: readonly PipelineScenario[] = [
  { name: '100B-4-shards', shards: 4, recordBytes: 100, records: 1_000_000, metricsLevel: 'none' },
  {
    name: '100B-4-shards-metrics',
    shards: 4,
    recordBytes: 100,
    records: 1_000_000,
    metricsLevel: 'detailed',
    comparedWith: '100B-4-shards',
  },
  { name: '1KiB-4-shards', shards: 4, recordBytes: 1024, records: 300_000, metricsLevel: 'none' },
  { name: '100B-4096-shards', shards: 4096, recordBytes: 100, records: 1_000_000, metricsLevel: 'none', comparedWith: '100B-4-shards' },
  { name: '1KiB-4096-shards', shards: 4096, recordBytes: 1024, records: 300_000, metricsLevel: 'none', comparedWith: '1KiB-4-shards' },
  { name: '100B-4096-shards-linger-1s', shards: 4096, recordBytes: 100, records: 1_000_000, metricsLevel: 'none', lingerMs: 1000 },
  // 4 shards, every state warm, but as few user records per Kinesis record as with 4,096 shards: the
  // per-Kinesis-record part of what 4,096 shards cost.
  {
    name: '100B-4-shards-8-per-kinesis-record',
    shards: 4,
    recordBytes: 100,
    records: 1_000_000,
    metricsLevel: 'none',
    aggregationMaxCount: 8,
    comparedWith: '100B-4-shards',
  },
  {
    name: '100B-4-shards-semi-space-64',
    shards: 4,
    recordBytes: 100,
    records: 1_000_000,
    metricsLevel: 'none',
    nodeOptions: LARGER_YOUNG_GENERATION,
    comparedWith: '100B-4-shards',
  },
  {
    name: '1KiB-4-shards-semi-space-64',
    shards: 4,
    recordBytes: 1024,
    records: 300_000,
    metricsLevel: 'none',
    nodeOptions: LARGER_YOUNG_GENERATION,
    comparedWith: '1KiB-4-shards',
  },
  {
    name: '100B-4096-shards-semi-space-64',
    shards: 4096,
    recordBytes: 100,
    records: 1_000_000,
    metricsLevel: 'none',
    nodeOptions: LARGER_YOUNG_GENERATION,
    comparedWith: '100B-4096-shards',
  },
];

const OUTSTANDING_WINDOW = 200_000;
/** The producer's defaults that decide how many records one PutRecords request carries. */
const DEFAULT_COLLECTION_MAX_SIZE = 5 * 1024 * 1024;
const DEFAULT_AGGREGATION_MAX_SIZE = 51_200;
/** Bytes a user record takes in an aggregate beyond its data: the bench's keys (about 20 characters) and the protobuf framing. */
const RECORD_OVERHEAD_BYTES = 30;

/**
 * Records one PutRecords request of the default size carries: 102 aggregates of 51,200 bytes, of
 * 393 user records of 100 B (the bench measures 396.5) or 48 of 1 KiB. The promise-only floor
 * settles records a request at a time and holds two requests' worth, the one out and the one
 * filling: with the default batching any producer holds at least that many, and the garbage
 * collector's cost grows with the records held. (A floor holding the bench's window of 200,000
 * would overstate it; one holding a few thousand would model batching that no default makes.)
 */
function floorBatchRecords(recordBytes: number): number {
  const aggregatesPerRequest = Math.floor(DEFAULT_COLLECTION_MAX_SIZE / DEFAULT_AGGREGATION_MAX_SIZE);
  return aggregatesPerRequest * Math.floor(DEFAULT_AGGREGATION_MAX_SIZE / (recordBytes + RECORD_OVERHEAD_BYTES));
}

const RECORD_SIZES = [100, 1024] as const;
const WARM_UP_RECORDS = 100_000;
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

interface RunMeasurement {
  readonly recordsPerSecond: number;
  readonly recordsPerCpuSecond: number;
  readonly gcPauseMicroseconds: number;
  readonly kinesisRecords: number;
  readonly peakRss: number;
}

/** Runs every scenario `runs` times, each run in a fresh process, and returns the medians. */
export async function runPipelineBench(options: { runs?: number; only?: string } = {}): Promise<PipelineBenchResult> {
  const runs = options.runs ?? 3;
  const floors: FloorResult[] = [];
  if (options.only === undefined || options.only === 'floor') {
    for (const recordBytes of RECORD_SIZES) {
      const measured: Array<Omit<RunMeasurement, 'kinesisRecords'>> = [];
      for (let run = 0; run < runs; run++) measured.push(await inChild(['floor', '', String(recordBytes)]));
      floors.push({
        recordBytes,
        heldRecords: 2 * floorBatchRecords(recordBytes),
        recordsPerSecond: median(measured.map((m) => m.recordsPerSecond)),
        recordsPerCpuSecond: median(measured.map((m) => m.recordsPerCpuSecond)),
        gcPauseMicroseconds: median(measured.map((m) => m.gcPauseMicroseconds)),
        runs,
      });
    }
  }
  const ceilings: CeilingResult[] = [];
  for (const floor of floors) {
    const costs = await inChild<InherentCosts>(['ceiling', '', String(floor.recordBytes)]);
    const floorMicroseconds = 1e6 / floor.recordsPerSecond;
    const total = floorMicroseconds + costs.keyMd5 + costs.md5Trailer + costs.base64 + costs.sigV4Sha256;
    ceilings.push({ recordBytes: floor.recordBytes, costs, floorMicroseconds, recordsPerSecond: 1e6 / total });
  }
  // Rounds, each running every scenario once, rather than every run of one scenario in a row: the
  // shared machine drifts by 10 to 20 % over minutes, and a ratio of two scenarios measured minutes
  // apart would carry that drift.
  const scenarios = PIPELINE_SCENARIOS.filter((scenario) => options.only === undefined || scenario.name === options.only);
  const measured = new Map<PipelineScenario, RunMeasurement[]>(scenarios.map((scenario) => [scenario, []]));
  const endpoints = new Map<number, FastKinesis>();
  try {
    for (let run = 0; run < runs; run++) {
      for (const scenario of scenarios) {
        let endpoint = endpoints.get(scenario.shards);
        if (endpoint === undefined) {
          endpoint = await startFastKinesis({ shards: scenario.shards });
          endpoints.set(scenario.shards, endpoint);
        }
        const before = await endpoint.counts();
        const result = await inChild<Omit<RunMeasurement, 'kinesisRecords'>>(
          ['throughput', endpoint.endpoint, JSON.stringify(scenario)],
          scenario.nodeOptions,
        );
        const after = await endpoint.counts();
        measured.get(scenario)?.push({ ...result, kinesisRecords: after.records - before.records });
      }
    }
  } finally {
    for (const endpoint of endpoints.values()) await endpoint.stop();
  }
  const throughput: PipelineResult[] = scenarios.map((scenario) => {
    const runsOf = measured.get(scenario) as RunMeasurement[];
    const totalUserRecords = scenario.records + WARM_UP_RECORDS;
    return {
      name: scenario.name,
      shards: scenario.shards,
      recordBytes: scenario.recordBytes,
      metrics: scenario.metricsLevel,
      recordsPerSecond: median(runsOf.map((m) => m.recordsPerSecond)),
      recordsPerCpuSecond: median(runsOf.map((m) => m.recordsPerCpuSecond)),
      userRecordsPerKinesisRecord: median(runsOf.map((m) => totalUserRecords / m.kinesisRecords)),
      gcPauseMicroseconds: median(runsOf.map((m) => m.gcPauseMicroseconds)),
      peakRssMiB: median(runsOf.map((m) => m.peakRss / 1024 / 1024)),
      runs,
    };
  });
  const cpuPerRecordRatios: CpuPerRecordRatio[] = [];
  for (const scenario of scenarios) {
    const baseline = scenarios.find((other) => other.name === scenario.comparedWith);
    if (baseline === undefined) continue;
    const baselineRuns = measured.get(baseline) as RunMeasurement[];
    const runs = measured.get(scenario) as RunMeasurement[];
    cpuPerRecordRatios.push({
      name: scenario.name,
      comparedWith: baseline.name,
      cpuPerRecordRatio: median(
        runs.map((m, round) => (baselineRuns[round] as RunMeasurement).recordsPerCpuSecond / m.recordsPerCpuSecond),
      ),
    });
  }
  const memory: BufferedMemoryResult[] = [];
  if (options.only === undefined || options.only === 'memory') {
    for (const shards of [4, 4096]) {
      const endpoint = await startFastKinesis({ shards });
      try {
        memory.push(await inChild<BufferedMemoryResult>(['memory', endpoint.endpoint, String(shards)]));
      } finally {
        await endpoint.stop();
      }
    }
  }
  return { floors, ceilings, throughput, cpuPerRecordRatios, memory };
}

/** Everything one run of the pipeline bench measured. */
export interface PipelineBenchResult {
  /** One per record size; empty when `only` named a single scenario. */
  readonly floors: FloorResult[];
  /** Empty when the floor was not measured. */
  readonly ceilings: CeilingResult[];
  readonly throughput: PipelineResult[];
  /** One per scenario that ran with the scenario it is compared with. */
  readonly cpuPerRecordRatios: CpuPerRecordRatio[];
  readonly memory: BufferedMemoryResult[];
}

/** The bench's results as Markdown tables. */
export function formatPipelineBench(result: PipelineBenchResult): string {
  const micro = (value: number): string => value.toFixed(2);
  const floorRows = result.floors.map(
    (floor) =>
      `| promise-only floor, ${floor.recordBytes} B, ${fmt(floor.heldRecords)} held (no pipeline, no network) | none | ${fmt(floor.recordsPerSecond)} | ${fmt(floor.recordsPerCpuSecond)} | ${micro(floor.gcPauseMicroseconds)} | | |`,
  );
  const rows = result.throughput.map(
    (r) =>
      `| ${r.name} | ${r.metrics} | ${fmt(r.recordsPerSecond)} | ${fmt(r.recordsPerCpuSecond)} | ${micro(r.gcPauseMicroseconds)} | ${r.userRecordsPerKinesisRecord.toFixed(1)} | ${fmt(r.peakRssMiB)} |`,
  );
  const ceilingRows = result.ceilings.map(
    (c) =>
      `| ${c.recordBytes} | ${micro(c.costs.keyMd5)} | ${micro(c.costs.md5Trailer)} | ${micro(c.costs.base64)} | ${micro(c.costs.sigV4Sha256)} | ${micro(c.floorMicroseconds)} | ${fmt(c.recordsPerSecond)} |`,
  );
  const ratioRows = result.cpuPerRecordRatios.map((r) => `| ${r.name} | ${r.comparedWith} | ${r.cpuPerRecordRatio.toFixed(2)} |`);
  const memoryRows = result.memory.map((m) => `| ${m.shards} | ${fmt(m.records)} | ${fmt(m.bytesPerRecord)} |`);
  return [
    ...(floorRows.length + rows.length === 0
      ? []
      : [
          '| scenario | metrics | user records/s | records per CPU-second | GC pauses µs per record | user records per Kinesis record | peak RSS MiB |',
          '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
          ...floorRows,
          ...rows,
          '',
        ]),
    ...(ceilingRows.length === 0
      ? []
      : [
          '| record bytes | key MD5 µs | MD5 trailer µs | base64 µs | SigV4 SHA-256 µs | promise floor µs | ceiling records/s |',
          '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
          ...ceilingRows,
          '',
        ]),
    ...(ratioRows.length === 0
      ? []
      : ['| scenario | against | CPU per record, ratio (median of per-round ratios) |', '| --- | --- | ---: |', ...ratioRows, '']),
    ...(memoryRows.length === 0
      ? []
      : ['| shards | buffered records | heap bytes per buffered record beyond its payload |', '| ---: | ---: | ---: |', ...memoryRows]),
  ]
    .join('\n')
    .trimEnd();
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

async function inChild<T>(args: string[], nodeOptions: readonly string[] = []): Promise<T> {
  const child = fork(fileURLToPath(import.meta.url), ['--child', ...args], {
    execArgv: ['--expose-gc', ...nodeOptions],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const [message] = (await once(child, 'message')) as [T];
  await once(child, 'exit');
  return message;
}

function createBenchProducer(endpoint: string, overrides: Partial<ConstructorParameters<typeof KinesisProducer>[0]>): KinesisProducer {
  return new KinesisProducer({
    streamName: 'bench',
    endpoint,
    credentials: CREDENTIALS,
    // The fast endpoint enforces no shard limits: the bench measures the producer, not the limiter.
    rateLimit: 10_000,
    maxOutstandingRecords: OUTSTANDING_WINDOW,
    maxOutstandingBytes: 4 * 1024 * 1024 * 1024,
    ...overrides,
  });
}

function distinctKeys(count: number): string[] {
  const keys = new Array<string>(count);
  for (let i = 0; i < count; i++) keys[i] = `device-${i.toString(36)}-${((i * 2654435761) >>> 0).toString(16)}`;
  return keys;
}

/** What the bench's loop needs of a producer: the real one, or the promise-only floor. */
interface BenchTarget {
  readonly outstandingRecords: number;
  add(record: UserRecord): Promise<UserRecordResult>;
  ready(): Promise<void>;
  flush(): Promise<void>;
}

async function produce(
  producer: BenchTarget,
  window: number,
  keys: readonly string[],
  from: number,
  to: number,
  data: Uint8Array,
  onDelivered: () => void,
): Promise<void> {
  for (let i = from; i < to; i++) {
    if (producer.outstandingRecords >= window) await producer.ready();
    producer.add({ partitionKey: keys[i] as string, data }).then(onDelivered, (error: unknown) => {
      throw error;
    });
    if ((i & 4095) === 0) await new Promise(setImmediate);
  }
  await producer.flush();
}

async function measureThroughput(endpoint: string, scenario: PipelineScenario): Promise<Omit<RunMeasurement, 'kinesisRecords'>> {
  const producer = createBenchProducer(endpoint, {
    metricsLevel: scenario.metricsLevel,
    ...(scenario.lingerMs !== undefined ? { recordMaxBufferedTime: scenario.lingerMs } : {}),
    ...(scenario.aggregationMaxCount !== undefined ? { aggregationMaxCount: scenario.aggregationMaxCount } : {}),
  });
  const keys = distinctKeys(scenario.records + WARM_UP_RECORDS);
  const data = new Uint8Array(scenario.recordBytes).fill(0x61);
  let delivered = 0;
  const onDelivered = (): void => {
    delivered++;
  };
  await produce(producer, OUTSTANDING_WINDOW, keys, 0, WARM_UP_RECORDS, data, onDelivered);
  let peakRss = process.memoryUsage().rss;
  const rssSampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const rates = await measureRates(scenario.records, () =>
    produce(producer, OUTSTANDING_WINDOW, keys, WARM_UP_RECORDS, keys.length, data, onDelivered),
  );
  clearInterval(rssSampler);
  await producer.close();
  if (delivered !== keys.length) throw new Error(`only ${delivered} of ${keys.length} records were delivered`);
  return { ...rates, peakRss: Math.max(peakRss, process.memoryUsage().rss) };
}

/** The same loop and keys against the promise-only floor, which holds two requests' worth of records. */
async function measureFloor(recordBytes: number): Promise<Omit<RunMeasurement, 'kinesisRecords'>> {
  const records = recordBytes > 512 ? 300_000 : 1_000_000;
  const batchRecords = floorBatchRecords(recordBytes);
  const window = 2 * batchRecords;
  const floor = new PromiseFloor(window, batchRecords);
  const keys = distinctKeys(records + WARM_UP_RECORDS);
  const data = new Uint8Array(recordBytes).fill(0x61);
  let delivered = 0;
  const onDelivered = (): void => {
    delivered++;
  };
  await produce(floor, window, keys, 0, WARM_UP_RECORDS, data, onDelivered);
  const rates = await measureRates(records, () => produce(floor, window, keys, WARM_UP_RECORDS, keys.length, data, onDelivered));
  if (delivered !== keys.length) throw new Error(`only ${delivered} of ${keys.length} records were settled`);
  return { ...rates, peakRss: process.memoryUsage().rss };
}

/**
 * Runs `load`, which adds `records` records, and measures them: records per second of the wall
 * clock and of the process's CPU time, and how long the garbage collector paused the main thread
 * per record (pauses that began while `load` ran).
 */
async function measureRates(
  records: number,
  load: () => Promise<void>,
): Promise<Pick<RunMeasurement, 'recordsPerSecond' | 'recordsPerCpuSecond' | 'gcPauseMicroseconds'>> {
  let pausedMs = 0;
  let until = Infinity;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.startTime < until) pausedMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await load();
  until = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  // Entries reach the observer on a later turn of the event loop.
  await new Promise(setImmediate);
  observer.disconnect();
  return {
    recordsPerSecond: records / ((until - started) / 1000),
    recordsPerCpuSecond: records / ((cpu.user + cpu.system) / 1e6),
    gcPauseMicroseconds: (pausedMs * 1000) / records,
  };
}

/**
 * Fills the producer with records it cannot send yet (a long linger, and fewer bytes than one
 * PutRecords batch) and measures the heap they hold. The caller's own objects (record, key, data)
 * are made before the first reading, so only what the producer adds is counted.
 */
async function measureBufferedMemory(endpoint: string, shards: number): Promise<BufferedMemoryResult> {
  const records = 30_000;
  const producer = createBenchProducer(endpoint, { metricsLevel: 'none', recordMaxBufferedTime: 600_000 });
  const warm = producer.add({ partitionKey: 'warm', data: 'x' });
  await producer.flush();
  await warm;
  const data = new Uint8Array(100).fill(0x61);
  const userRecords = distinctKeys(records).map((partitionKey) => ({ partitionKey, data }));
  const gc = (globalThis as { gc?: () => void }).gc as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  const deliveries = userRecords.map((record) => producer.add(record));
  gc();
  const after = process.memoryUsage().heapUsed;
  await producer.flush();
  await Promise.all(deliveries);
  await producer.close();
  return { shards, records, bytesPerRecord: (after - before) / records };
}

async function child(args: string[]): Promise<void> {
  const [mode, endpoint, parameter] = args as [string, string, string];
  const result =
    mode === 'memory'
      ? await measureBufferedMemory(endpoint, Number(parameter))
      : mode === 'floor'
        ? await measureFloor(Number(parameter))
        : mode === 'ceiling'
          ? measureInherentCosts(distinctKeys(Number(parameter) > 512 ? 60_000 : 200_000), Number(parameter))
          : await measureThroughput(endpoint, JSON.parse(parameter) as PipelineScenario);
  (process.send as (message: unknown) => boolean)(result);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--child') {
    await child(process.argv.slice(3));
  } else {
    const { values } = parseArgs({ options: { runs: { type: 'string' }, only: { type: 'string' } } });
    const result = await runPipelineBench({
      ...(values.runs !== undefined ? { runs: Number(values.runs) } : {}),
      ...(values.only !== undefined ? { only: values.only } : {}),
    });
    process.stdout.write(`${formatPipelineBench(result)}\n`);
  }
}
