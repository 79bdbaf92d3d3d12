/**
 * The forwarders' cost per line: `kpl send --key-field` on a file of JSON lines, a real `kpl tail`
 * process following a directory that the file appears in, and the path of `kpl tail` alone (a
 * LineRecordReader over the file's chunks, into the producer), against the fast non-storing
 * endpoint (bench/support/fast-kinesis.ts) in another process. Beside them, in the
 * same run, aws-kinesis-agg aggregating the same records (keys read beforehand): the aggregation
 * alone, with no reading, no sending and no promises.
 *
 *   npm run build && node dist/bench/forward.js [--runs 3] [--lines 200000] [--only 'kpl tail']
 *
 * One measurement by hand, e.g. to profile it (the endpoint from bench/support/fast-kinesis.ts):
 *
 *   node --cpu-prof dist/bench/forward.js --child 'kpl send' ENDPOINT WARM_UP_FILE FILE
 *   node --cpu-prof dist/bench/forward.js --child 'kpl tail' ENDPOINT WARM_UP_FILE FILE   # profiles the kpl tail process
 *
 * Each measurement runs in a fresh child process. It first forwards a warm-up file (20,000 lines),
 * so that the figures are the steady state, not module loading and JIT warm-up; the CPU time of
 * the whole process (startup included) is given too. `kpl tail` is measured from outside
 * (bench/support/kpl-tail-process.ts): its CPU from /proc, its progress from its checkpoint. Rounds alternate the scenarios, and the
 * figures are medians: the machine is shared, so CPU time, not wall time, is what compares.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { CliIo } from '../src/cli/io.js';
import { LineRecordReader } from '../src/cli/lines/line-record-reader.js';
import { runCli } from '../src/cli/program.js';
import { DeliverySink } from '../src/cli/send/delivery-sink.js';
import { KinesisProducer } from '../src/producer.js';
import { startFastKinesis } from './support/fast-kinesis.js';
import { measureKplTail } from './support/kpl-tail-process.js';
import { median } from './support/median.js';

/** The workload of issue 14: JSON lines of 98 bytes, keyed by a field. */
const LINE_BYTES = 98;
const KEY_FIELD = 'deviceId';
const DEVICES = 1000;
const WARM_UP_LINES = 20_000;
const SHARDS = 16;
const STREAM = 'forward';
/** Records the tail path reads ahead of delivery, as `kpl send --max-outstanding` by default. */
const READ_AHEAD_RECORDS = 20_000;

/** A scenario: how the lines are forwarded. */
export type ForwardScenario = 'kpl send' | 'kpl tail' | 'tail path (LineRecordReader + addWithCallback)' | 'aws-kinesis-agg aggregate only';
const SCENARIOS: readonly ForwardScenario[] = [
  'kpl send',
  'kpl tail',
  'tail path (LineRecordReader + addWithCallback)',
  'aws-kinesis-agg aggregate only',
];

/** One scenario's medians. */
export interface ForwardResult {
  readonly scenario: ForwardScenario;
  readonly lines: number;
  /** Lines per CPU-second of the forwarding process, after the warm-up. */
  readonly linesPerCpuSecond: number;
  /** CPU seconds for the measured lines, after the warm-up. */
  readonly cpuSeconds: number;
  /** CPU seconds of the whole child process: startup, warm-up and the measured lines. */
  readonly processCpuSeconds: number;
  readonly linesPerSecond: number;
  readonly runs: number;
}

interface Measurement {
  readonly cpuSeconds: number;
  readonly processCpuSeconds: number;
  readonly wallSeconds: number;
}

/** Writes the files, starts the endpoint, and runs every scenario `runs` times in alternating rounds. */
export async function runForwardBench(options: { runs?: number; lines?: number; only?: ForwardScenario } = {}): Promise<ForwardResult[]> {
  const runs = options.runs ?? 3;
  const scenarios = options.only === undefined ? SCENARIOS : SCENARIOS.filter((scenario) => scenario === options.only);
  if (scenarios.length === 0)
    throw new Error(`--only: no scenario is named ${String(options.only)}; the scenarios: ${SCENARIOS.join(', ')}`);
  const lines = options.lines ?? 200_000;
  const directory = await mkdtemp(path.join(tmpdir(), 'kpl-forward-'));
  const endpoint = await startFastKinesis({ shards: SHARDS });
  const measured = new Map<ForwardScenario, Measurement[]>(scenarios.map((scenario) => [scenario, []]));
  try {
    const warmUp = path.join(directory, 'warm-up.ndjson');
    const file = path.join(directory, 'lines.ndjson');
    await writeFile(warmUp, jsonLines(WARM_UP_LINES, 1));
    await writeFile(file, jsonLines(lines, 2));
    for (let run = 0; run < runs; run++) {
      for (const scenario of scenarios) measured.get(scenario)?.push(await inChild([scenario, endpoint.endpoint, warmUp, file]));
    }
  } finally {
    await endpoint.stop();
    await rm(directory, { recursive: true, force: true });
  }
  return scenarios.map((scenario) => {
    const runsOf = measured.get(scenario) as Measurement[];
    const cpuSeconds = median(runsOf.map((m) => m.cpuSeconds));
    return {
      scenario,
      lines,
      linesPerCpuSecond: median(runsOf.map((m) => lines / m.cpuSeconds)),
      cpuSeconds,
      processCpuSeconds: median(runsOf.map((m) => m.processCpuSeconds)),
      linesPerSecond: median(runsOf.map((m) => lines / m.wallSeconds)),
      runs,
    };
  });
}

/** The bench's results as a Markdown table. */
export function formatForwardBench(results: readonly ForwardResult[]): string {
  const fmt = (value: number): string => Math.round(value).toLocaleString('en-US');
  return [
    `${fmt(results[0]?.lines ?? 0)} JSON lines of ${LINE_BYTES} B, partition key from the field ${KEY_FIELD} (${DEVICES} values), ${SHARDS} shards; medians of ${results[0]?.runs ?? 0} runs`,
    '',
    '| scenario | lines per CPU-second | CPU s (measured lines) | CPU s (whole process) | lines/s (wall) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${fmt(r.linesPerCpuSecond)} | ${r.cpuSeconds.toFixed(2)} | ${r.processCpuSeconds.toFixed(2)} | ${fmt(r.linesPerSecond)} |`,
    ),
  ].join('\n');
}

/** `count` JSON lines of exactly LINE_BYTES bytes (newline excluded), keyed over DEVICES devices. */
function jsonLines(count: number, seed: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const head = `{"${KEY_FIELD}":"device-${String((i * 7919 + seed) % DEVICES).padStart(4, '0')}","seq":${i},"temperature":${(20 + (i % 100) / 10).toFixed(1)},"note":"`;
    parts.push(`${head}${'x'.repeat(LINE_BYTES - head.length - 2)}"}\n`);
  }
  return parts.join('');
}

async function inChild(args: string[]): Promise<Measurement> {
  const child = fork(fileURLToPath(import.meta.url), ['--child', ...args], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const [message] = (await once(child, 'message')) as [Measurement | { error: string }];
  await once(child, 'exit');
  if ('error' in message) throw new Error(`forward bench child: ${message.error}`);
  return message;
}

async function measure(forward: (file: string) => Promise<void>, warmUp: string, file: string): Promise<Measurement> {
  await forward(warmUp);
  const before = process.cpuUsage();
  const started = performance.now();
  await forward(file);
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(before);
  const whole = process.cpuUsage();
  return { cpuSeconds: (cpu.user + cpu.system) / 1e6, processCpuSeconds: (whole.user + whole.system) / 1e6, wallSeconds };
}

/** `kpl send --key-field deviceId FILE` in this process, as the command line runs it. */
async function sendFile(endpoint: string, file: string): Promise<void> {
  const stderr = new PassThrough().setEncoding('utf8');
  let errors = '';
  stderr.on('data', (text: string) => (errors += text));
  const io: CliIo = {
    stdin: Readable.from([]),
    stdout: new PassThrough(),
    stderr,
    stderrIsTTY: false,
    env: {},
    onStopSignal: () => () => undefined,
  };
  const code = await runCli(['send', '--endpoint', endpoint, '--stream', STREAM, '--key-field', KEY_FIELD, file], io);
  if (code !== 0) throw new Error(`kpl send exited ${code}: ${errors}`);
}

/**
 * What `kpl tail` does with a file's bytes: a LineRecordReader per file, each record into the
 * producer with addWithCallback, reading ahead at most 20,000 records (as `kpl send` by default).
 */
async function tailPath(endpoint: string, file: string): Promise<void> {
  const producer = new KinesisProducer({
    streamName: STREAM,
    endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    metricsLevel: 'none',
  });
  const reader = new LineRecordReader({ format: 'lines', keyField: KEY_FIELD });
  let failed = 0;
  const sink = new DeliverySink(producer, { maxRecords: READ_AHEAD_RECORDS, maxBytes: 64 * 1024 * 1024 }, () => {
    failed++;
  });
  for await (const chunk of createReadStream(file)) {
    reader.push(chunk as Buffer, sink.emit);
    if (sink.backlogged) await sink.drain();
  }
  reader.end(sink.emit);
  await sink.drain();
  await producer.close();
  if (failed > 0) throw new Error(`${failed} records failed`);
}

/** The AWS Labs module's aggregation of the same records, their keys read beforehand: aggregation only. */
async function awsKinesisAgg(file: string): Promise<void> {
  const agg = createRequire(import.meta.url)('aws-kinesis-agg') as {
    aggregate(
      records: Array<{ partitionKey: string; data: Buffer }>,
      onEncoded: (encoded: { data: Buffer }, done: () => void) => void,
      afterAll: () => void,
      onError: (error: Error) => void,
    ): void;
  };
  const records: Array<{ partitionKey: string; data: Buffer }> = [];
  const reader = new LineRecordReader({ format: 'lines', keyField: KEY_FIELD });
  const collect = (record: { partitionKey: string; data: Buffer }): void => {
    records.push(record);
  };
  for await (const chunk of createReadStream(file)) reader.push(chunk as Buffer, collect);
  reader.end(collect);
  const before = process.cpuUsage();
  let bytes = 0;
  await new Promise<void>((resolve, reject) =>
    agg.aggregate(
      records,
      (encoded, done) => {
        bytes += encoded.data.length;
        done();
      },
      resolve,
      reject,
    ),
  );
  const cpu = process.cpuUsage(before);
  aggregationCpu += cpu.user + cpu.system;
  if (bytes === 0) throw new Error('aws-kinesis-agg produced nothing');
}

/** For aws-kinesis-agg, only the aggregation's CPU counts; its records are read before the clock starts. */
let aggregationCpu = 0;

async function child(scenario: ForwardScenario, endpoint: string, warmUp: string, file: string): Promise<Measurement> {
  // This process only watches the kpl tail process; Node flags given to it (--cpu-prof) go to kpl tail.
  if (scenario === 'kpl tail')
    return measureKplTail({ endpoint, stream: STREAM, keyField: KEY_FIELD, warmUp, file, execArgv: process.execArgv });
  if (scenario === 'kpl send') return measure((path) => sendFile(endpoint, path), warmUp, file);
  if (scenario === 'tail path (LineRecordReader + addWithCallback)') return measure((path) => tailPath(endpoint, path), warmUp, file);
  await awsKinesisAgg(warmUp);
  const started = performance.now();
  aggregationCpu = 0;
  await awsKinesisAgg(file);
  const whole = process.cpuUsage();
  return {
    cpuSeconds: aggregationCpu / 1e6,
    processCpuSeconds: (whole.user + whole.system) / 1e6,
    wallSeconds: (performance.now() - started) / 1000,
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { child: { type: 'boolean' }, runs: { type: 'string' }, lines: { type: 'string' }, only: { type: 'string' } },
    allowPositionals: true,
  });
  if (values.child === true) {
    const [scenario, endpoint, warmUp, file] = positionals as [ForwardScenario, string, string, string];
    // Run by hand (say under --cpu-prof), without a parent, it prints its measurement.
    const report = (message: Measurement | { error: string }): void => {
      if (process.send === undefined) process.stdout.write(`${JSON.stringify(message)}\n`);
      else process.send(message);
    };
    try {
      report(await child(scenario, endpoint, warmUp, file));
    } catch (error) {
      report({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
    return;
  }
  const results = await runForwardBench({
    ...(values.runs !== undefined ? { runs: Number(values.runs) } : {}),
    ...(values.lines !== undefined ? { lines: Number(values.lines) } : {}),
    ...(values.only !== undefined ? { only: values.only as ForwardScenario } : {}),
  });
  process.stdout.write(`${formatForwardBench(results)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
