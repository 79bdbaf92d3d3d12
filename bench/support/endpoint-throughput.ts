/**
 * How many Kinesis records and bytes per second the local endpoints sustain: the fast endpoint
 * (in its own process) and LocalKinesis (kinesalite behind the limits proxy, in this process,
 * limits off so that the server, not the limit, is measured). The load is pre-built PutRecords
 * bodies sent over keep-alive connections, so that the client costs next to nothing.
 *
 *   npm run build && node dist/bench/support/endpoint-throughput.js [--seconds 5] [--concurrency 4]
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalKinesis } from '../../src/testing/index.js';
import { startFastKinesis } from './fast-kinesis.js';
import { postRawKinesis } from './raw-kinesis-request.js';

/** A PutRecords body shape to send. */
interface Workload {
  readonly name: string;
  readonly records: number;
  readonly dataBytes: number;
  /** Aggregates carry an ExplicitHashKey and a short key; plain records a distinct key each. */
  readonly explicitHashKeys: boolean;
}

/** Figures for one endpoint and workload. */
export interface ThroughputResult {
  endpoint: string;
  workload: string;
  requestsPerSecond: number;
  recordsPerSecond: number;
  /** Record data bytes (not base64) per second, in MB (10^6). */
  dataMegabytesPerSecond: number;
  failedRecords: number;
}

const WORKLOADS: readonly Workload[] = [
  { name: '500 x 10 KB aggregates (EHK)', records: 500, dataBytes: 10_000, explicitHashKeys: true },
  { name: '500 x 100 B plain records', records: 500, dataBytes: 100, explicitHashKeys: false },
];
const STREAM = 'throughput';
const SHARDS = 4;

function putRecordsBody(workload: Workload, variant: number): Buffer {
  const records = Array.from({ length: workload.records }, (_, i) => {
    const data = randomBytes(workload.dataBytes).toString('base64');
    return workload.explicitHashKeys
      ? {
          Data: data,
          ExplicitHashKey: ((BigInt(variant * 7919 + i) * 0x9e3779b97f4a7c15f39cc0605cedc834n) % (1n << 128n)).toString(),
          PartitionKey: 'a',
        }
      : { Data: data, PartitionKey: `partition-key-${variant}-${i}` };
  });
  return Buffer.from(JSON.stringify({ Records: records, StreamName: STREAM }), 'utf8');
}

async function post(agent: http.Agent, url: URL, body: Buffer): Promise<{ status: number; failed: number }> {
  const answer = await postRawKinesis(url, 'PutRecords', 'application/x-amz-json-1.1', body, agent);
  const failed = /"FailedRecordCount":(\d+)/.exec(answer.body.toString('utf8'))?.[1];
  return { status: answer.status, failed: Number(failed ?? 0) };
}

async function drive(endpoint: string, label: string, workload: Workload, seconds: number, concurrency: number): Promise<ThroughputResult> {
  const bodies = Array.from({ length: 8 }, (_, variant) => putRecordsBody(workload, variant));
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(endpoint);
  let requests = 0;
  let failedRecords = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; performance.now() < deadline; i += concurrency) {
        const answer = await post(agent, url, bodies[i % bodies.length] as Buffer);
        if (answer.status !== 200) throw new Error(`${label} answered HTTP ${answer.status}`);
        failedRecords += answer.failed;
        requests++;
      }
    }),
  );
  const elapsedSeconds = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    endpoint: label,
    workload: workload.name,
    requestsPerSecond: requests / elapsedSeconds,
    recordsPerSecond: (requests * workload.records) / elapsedSeconds,
    dataMegabytesPerSecond: (requests * workload.records * workload.dataBytes) / elapsedSeconds / 1e6,
    failedRecords,
  };
}

/** Measures every workload against both endpoints. */
export async function measureEndpoints(seconds: number, concurrency: number): Promise<ThroughputResult[]> {
  const results: ThroughputResult[] = [];
  const fast = await startFastKinesis({ shards: SHARDS });
  try {
    for (const workload of WORKLOADS)
      results.push(await drive(fast.endpoint, 'fast-kinesis (child process)', workload, seconds, concurrency));
  } finally {
    await fast.stop();
  }
  for (const workload of WORKLOADS) {
    const local = await LocalKinesis.start({ limits: false, streams: [{ name: STREAM, shards: SHARDS }] });
    try {
      results.push(await drive(local.endpoint, 'LocalKinesis (in process, limits off)', workload, seconds, concurrency));
    } finally {
      await local.close();
    }
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '4' } },
  });
  const results = await measureEndpoints(Number(values.seconds), Number(values.concurrency));
  for (const result of results) {
    process.stdout.write(
      `${result.endpoint.padEnd(40)} ${result.workload.padEnd(30)} ` +
        `${Math.round(result.recordsPerSecond).toLocaleString('en-US').padStart(9)} records/s ` +
        `${result.dataMegabytesPerSecond.toFixed(1).padStart(7)} MB/s ` +
        `${result.requestsPerSecond.toFixed(1).padStart(7)} requests/s\n`,
    );
  }
}
