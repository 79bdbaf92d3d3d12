import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll } from 'vitest';
import { stopChild } from '../../src/testing/stop-child.js';
import { createKinesisClient } from './kinesis-client.js';

/** A kinesis-local (kinesis-mock) server running in a child process on 127.0.0.1. */
export interface KinesisLocal {
  /** Plain HTTP endpoint, `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** HTTPS endpoint with kinesis-mock's self-signed certificate, `https://127.0.0.1:PORT`. */
  readonly tlsEndpoint: string;
  /** Process ID of the server. */
  readonly pid: number;
  /**
   * Stops the server: SIGTERM, then SIGKILL if it is still running after a short wait (it ignores
   * SIGTERM while a keep-alive connection is open). Resolves when the process has exited.
   */
  stop(): Promise<void>;
}

/** Options of {@link startKinesisLocal}. */
export interface KinesisLocalOptions {
  /**
   * Duration of every stream transition (create, delete, split, merge, update shard count, ...),
   * in kinesis-mock's duration syntax. @default '1ms'
   */
  readonly transitionDuration?: string;
  /** Most shards the server holds. @default 10000 */
  readonly shardLimit?: number;
  /** Streams to create at start, e.g. `'a:2,b:4'` (kinesis-mock's INITIALIZE_STREAMS). */
  readonly initializeStreams?: string;
  /** kinesis-mock's LOG_LEVEL. @default 'WARN' */
  readonly logLevel?: 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
  /** Milliseconds to wait for it to answer before giving up. @default 30000 */
  readonly startTimeoutMs?: number;
}

const TRANSITION_VARIABLES = [
  'CREATE_STREAM_DURATION',
  'DELETE_STREAM_DURATION',
  'REGISTER_STREAM_CONSUMER_DURATION',
  'DEREGISTER_STREAM_CONSUMER_DURATION',
  'START_STREAM_ENCRYPTION_DURATION',
  'STOP_STREAM_ENCRYPTION_DURATION',
  'MERGE_SHARDS_DURATION',
  'SPLIT_SHARD_DURATION',
  'UPDATE_SHARD_COUNT_DURATION',
  'UPDATE_STREAM_MODE_DURATION',
] as const;
const KILL_AFTER_MS = 500;
const OUTPUT_KEPT_CHARS = 4_000;

const require = createRequire(import.meta.url);
const PRELOAD = fileURLToPath(new URL('./kinesis-local-preload.cjs', import.meta.url));

/**
 * Starts kinesis-local (the Scala kinesis-mock compiled to JavaScript) in a child process with
 * `node -r kinesis-local-preload.cjs`, on free ports of 127.0.0.1, in memory, with near-zero
 * stream transition delays. Resolves once it answers ListStreams.
 */
export async function startKinesisLocal(options: KinesisLocalOptions = {}): Promise<KinesisLocal> {
  const main = require.resolve('kinesis-local/main.js');
  const transition = options.transitionDuration ?? '1ms';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    KINESIS_MOCK_PLAIN_PORT: '0',
    KINESIS_MOCK_TLS_PORT: '0',
    KINESIS_MOCK_CERT_PATH: path.join(path.dirname(main), 'server.json'),
    SHARD_LIMIT: String(options.shardLimit ?? 10_000),
    LOG_LEVEL: options.logLevel ?? 'WARN',
    SHOULD_PERSIST_DATA: 'false',
    LOAD_DATA_IF_EXISTS: 'false',
    AWS_REGION: 'us-east-1',
  };
  for (const name of TRANSITION_VARIABLES) env[name] = transition;
  if (options.initializeStreams !== undefined) env['INITIALIZE_STREAMS'] = options.initializeStreams;

  const child = fork(main, [], {
    execArgv: ['-r', PRELOAD],
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = (): Promise<void> => stopChild(child, KILL_AFTER_MS);

  try {
    const ports = await waitForTwoPorts(child, options.startTimeoutMs ?? 30_000);
    // Both servers report alike (the TLS one wraps plain sockets), so plain HTTP tells them apart.
    const plainPort = await findPlainPort(ports, child);
    const tlsPort = ports.find((port) => port !== plainPort) ?? 0;
    return {
      endpoint: `http://127.0.0.1:${plainPort}`,
      tlsEndpoint: `https://127.0.0.1:${tlsPort}`,
      pid: child.pid ?? -1,
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`kinesis-local did not start: ${(error as Error).message}\n--- its output ---\n${output}`, {
      cause: error,
    });
  }
}

interface ListeningMessage {
  kind: 'listening';
  port: number;
}

function waitForTwoPorts(child: ChildProcess, timeoutMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const ports: number[] = [];
    const timer = setTimeout(() => finish(new Error(`no listening ports within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: ListeningMessage): void => {
      if (message.kind !== 'listening') return;
      ports.push(message.port);
      if (ports.length === 2) finish(undefined);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      finish(new Error(`it exited (code ${code}, signal ${signal}) before listening`));
    };
    function finish(error: Error | undefined): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error !== undefined) reject(error);
      else resolve(ports);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function findPlainPort(ports: readonly number[], child: ChildProcess): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('it exited while starting');
    for (const port of ports) {
      if (await answersListStreams(`http://127.0.0.1:${port}`)) return port;
    }
    if (attempt === 50) throw new Error(`neither port ${ports.join(' nor ')} answered ListStreams over plain HTTP`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function answersListStreams(endpoint: string): Promise<boolean> {
  const client = createKinesisClient(endpoint, { requestTimeoutMs: 2_000 });
  try {
    await client.send(new ListStreamsCommand({}));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/** The server and clients {@link useKinesisLocal} keeps for one describe block. */
export interface KinesisLocalSuite {
  readonly server: KinesisLocal;
  /** A client for setting streams up and reading them back. */
  readonly admin: KinesisClient;
  /** The client under test. */
  readonly client: KinesisClient;
}

/**
 * Starts kinesis-local in the calling describe block's beforeAll, with an admin client and the
 * client under test, and stops it and destroys both in its afterAll. Read the fields inside tests.
 */
export function useKinesisLocal(createClient: (endpoint: string) => KinesisClient): KinesisLocalSuite {
  const suite = {} as { server: KinesisLocal; admin: KinesisClient; client: KinesisClient };
  beforeAll(async () => {
    suite.server = await startKinesisLocal();
    suite.admin = createKinesisClient(suite.server.endpoint);
    suite.client = createClient(suite.server.endpoint);
  });
  afterAll(async () => {
    suite.admin?.destroy();
    suite.client?.destroy();
    await suite.server?.stop();
  });
  return suite;
}
