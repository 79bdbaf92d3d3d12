import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { AwsCredentialIdentity } from '@smithy/types';
import { createKinesisClient } from '../../pipeline/kinesis-client.js';
import { listOpenShards } from '../../pipeline/shard-map.js';
import { stopChild } from '../../testing/stop-child.js';

/** Dummy credentials: a local Kinesis checks that requests are signed, not by whom. */
export const LOCAL_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A stream a bench run writes to. */
export interface BenchStream {
  readonly streamName: string;
  /** Open shards, the measure of the stream's write limits. */
  readonly shards: number;
}

/** Where a bench writes: the embedded limits-enforcing local Kinesis, or an endpoint the user named. */
export interface BenchTarget {
  /** Endpoint URL; undefined for AWS's own endpoint of the region. */
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  /** Credentials to use; undefined for the SDK's default chain. */
  readonly credentials: AwsCredentialIdentity | undefined;
  /** Says in words what the target is, for the summary. */
  readonly description: string;
  /** A stream for one run: a new one of `shards` shards on the embedded Kinesis; the user's stream otherwise. */
  stream(shards: number): Promise<BenchStream>;
  /** A client for reading back and for plain PutRecords. */
  client(maxConnections: number): KinesisClient;
  close(): Promise<void>;
}

/** The compiled `kpl` entry point, when this module runs from the build (not from the TypeScript source). */
export const CLI_ENTRY = fileURLToPath(new URL('../main.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const KILL_AFTER_MS = 2_000;
const OUTPUT_KEPT_CHARS = 2_000;

/**
 * Starts the embedded local Kinesis with its per-shard limits on. From the build it runs as
 * `kpl local` in a child process, so that the Kinesis' work (kinesalite storing every record) does
 * not share the event loop of the producer being measured; from the TypeScript source (tests), or
 * when `inProcess` is set, it runs in this process.
 */
export async function startEmbeddedTarget(inProcess: boolean): Promise<BenchTarget> {
  const child = !inProcess && existsSync(CLI_ENTRY);
  const server = child ? await startChildKinesis() : await startInProcessKinesis();
  let streams = 0;
  const runId = Date.now().toString(36);
  const client = (maxConnections: number): KinesisClient => clientFor(server.endpoint, 'us-east-1', LOCAL_CREDENTIALS, maxConnections);
  return {
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    description: `embedded local Kinesis with the service's write limits (1,000 records/s and 1 MiB/s per shard)${child ? '' : ', in this process'}`,
    async stream(shards) {
      const streamName = `kpl-bench-${runId}-${++streams}`;
      const admin = client(1);
      try {
        await createActiveStream(admin, streamName, shards);
      } finally {
        admin.destroy();
      }
      return { streamName, shards };
    },
    client,
    close: () => server.close(),
  };
}

/** A stream that already exists at `endpoint` (real Kinesis, LocalStack, `kpl local`). */
export function externalTarget(
  streamName: string,
  endpoint: string | undefined,
  region: string | undefined,
  credentials: AwsCredentialIdentity | undefined,
): BenchTarget {
  const client = (maxConnections: number): KinesisClient => clientFor(endpoint, region, credentials, maxConnections);
  return {
    endpoint,
    region,
    credentials,
    description: `stream ${streamName} at ${endpoint ?? `Kinesis in ${region ?? 'the default region'}`}`,
    async stream() {
      const admin = client(1);
      try {
        const shards = await listOpenShards(admin, { streamName });
        return { streamName, shards: shards.length };
      } finally {
        admin.destroy();
      }
    },
    client,
    close: () => Promise.resolve(),
  };
}

function clientFor(
  endpoint: string | undefined,
  region: string | undefined,
  credentials: AwsCredentialIdentity | undefined,
  maxConnections: number,
): KinesisClient {
  return createKinesisClient({ endpoint, region, credentials, maxConnections, requestTimeout: 30_000, http2: false });
}

interface RunningServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

async function startInProcessKinesis(): Promise<RunningServer> {
  const { LocalKinesis } = await import('../../testing/index.js');
  const kinesis = await LocalKinesis.start();
  return { endpoint: kinesis.endpoint, close: () => kinesis.close() };
}

async function startChildKinesis(): Promise<RunningServer> {
  // Its own process group, so that Ctrl-C reaches only the bench, which settles its records and then
  // stops the child; the IPC channel stops the child should the bench die first.
  const child = spawn(process.execPath, [CLI_ENTRY, 'local', '--port', '0', '--shards', '1', '--stream', 'kpl-local'], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  // Its stderr is the bench's business only when it fails to start.
  let errorOutput = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    errorOutput = (errorOutput + text).slice(-OUTPUT_KEPT_CHARS);
  });
  try {
    const endpoint = await firstLine(child, () => errorOutput);
    return { endpoint, close: () => stopChild(child, KILL_AFTER_MS) };
  } catch (error) {
    await stopChild(child, KILL_AFTER_MS);
    throw error;
  }
}

async function firstLine(child: ChildProcess, errorOutput: () => string): Promise<string> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const timeout = AbortSignal.timeout(START_TIMEOUT_MS);
  const exited = once(child, 'exit', { signal: timeout }).then(([code]) => {
    throw new Error(
      `the embedded local Kinesis (kpl local) exited with code ${String(code)} before printing its endpoint: ${errorOutput().trim()}`,
    );
  });
  const line = once(lines, 'line', { signal: timeout }).then(([text]) => String(text));
  try {
    const endpoint = await Promise.race([line, exited]);
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(endpoint)) throw new Error(`kpl local printed '${endpoint}' where its endpoint was expected`);
    return endpoint;
  } finally {
    lines.close();
    exited.catch(() => undefined);
    line.catch(() => undefined);
  }
}

async function createActiveStream(client: KinesisClient, streamName: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shards }));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const status = summary.StreamDescriptionSummary?.StreamStatus;
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`stream ${streamName} is still ${status ?? 'unknown'} after ${START_TIMEOUT_MS} ms`);
    await sleep(20);
  }
}
