/**
 * The fast, non-storing Kinesis endpoint (see fast-kinesis-server.ts) in its own process, so that
 * a benchmark's producer has its core to itself.
 *
 *   npm run build && node dist/bench/support/fast-kinesis.js --shards 4 [--port 0]
 *
 * prints its endpoint URL on its first line and serves until SIGINT or SIGTERM.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stopChild } from '../../src/testing/stop-child.js';
import { createFastKinesisServer, type FastKinesisCounts } from './fast-kinesis-server.js';

/** A fast endpoint in a child process. */
export interface FastKinesis {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Process ID of the server. */
  readonly pid: number;
  /** What it has answered so far. */
  counts(): Promise<FastKinesisCounts>;
  /** Stops the process: SIGTERM, then SIGKILL after a second. Resolves when it has exited. */
  stop(): Promise<void>;
}

/** Options of {@link startFastKinesis}. */
export interface StartFastKinesisOptions {
  /** Open shards of every stream, evenly split. */
  readonly shards: number;
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
}

type ParentMessage = { kind: 'counts' };
type ChildMessage = { kind: 'counts'; counts: FastKinesisCounts };

const KILL_AFTER_MS = 1_000;
const START_TIMEOUT_MS = 15_000;

/**
 * Forks the compiled endpoint (dist/bench/support/fast-kinesis.js; from TypeScript sources, such
 * as under vitest, the build must have run) and resolves once it has printed its endpoint.
 */
export async function startFastKinesis(options: StartFastKinesisOptions): Promise<FastKinesis> {
  const child = fork(compiledEntry(), ['--shards', String(options.shards), '--port', String(options.port ?? 0)], {
    execArgv: [],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const stop = (): Promise<void> => stopChild(child, KILL_AFTER_MS);
  let endpoint: string;
  try {
    endpoint = await firstLine(child, START_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    pid: child.pid ?? -1,
    stop,
    counts: async () => {
      const reply = once(child, 'message') as Promise<[ChildMessage]>;
      child.send({ kind: 'counts' } satisfies ParentMessage);
      const [message] = await reply;
      return message.counts;
    },
  };
}

function compiledEntry(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return here;
  const root = path.resolve(path.dirname(here), '../..');
  const built = path.join(root, 'dist/bench/support/fast-kinesis.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` before starting fast-kinesis`);
  return built;
}

async function firstLine(child: ReturnType<typeof fork>, timeoutMs: number): Promise<string> {
  const stdout = child.stdout;
  if (stdout === null) throw new Error('fast-kinesis has no stdout');
  const lines = createInterface({ input: stdout });
  const timer = setTimeout(() => lines.close(), timeoutMs);
  try {
    for await (const line of lines) {
      if (/^http:\/\/127\.0\.0\.1:\d+$/.test(line)) return line;
      throw new Error(`fast-kinesis printed ${JSON.stringify(line)} instead of its endpoint`);
    }
    throw new Error(`fast-kinesis printed no endpoint within ${timeoutMs} ms (exit code ${child.exitCode})`);
  } finally {
    clearTimeout(timer);
    lines.close();
    stdout.resume();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { shards: { type: 'string', default: '4' }, port: { type: 'string', default: '0' } },
  });
  const shards = Number(values.shards);
  const port = Number(values.port);
  if (!Number.isInteger(shards) || shards < 1) {
    process.stderr.write(`--shards must be an integer from 1 up, got ${values.shards}\n`);
    process.exit(2);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`--port must be an integer from 0 to 65535, got ${values.port}\n`);
    process.exit(2);
  }
  const server = await createFastKinesisServer({ shards, port });
  process.stdout.write(`${server.endpoint}\n`);
  const shutdown = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.on('message', (message: ParentMessage) => {
    if (message.kind === 'counts') process.send?.({ kind: 'counts', counts: server.counts } satisfies ChildMessage);
  });
  // Forked: leave with the parent, so a crashed benchmark leaves no server behind.
  process.once('disconnect', () => process.exit(0));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`fast-kinesis: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
