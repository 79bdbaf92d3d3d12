import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { deaggregate } from '../../src/index.js';
import { listAllShards, md5HashKey, readAllRecords } from '../support/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WRITER = fileURLToPath(new URL('./cli-tail-writer.mjs', import.meta.url));
const run = promisify(execFile);

/** The `kpl` command compiled into a temporary directory (src/cli/main.ts and what it imports), as users run it. */
export async function compileKpl(): Promise<{ main: string; remove: () => Promise<void> }> {
  const directory = await mkdtemp(path.join(tmpdir(), 'kpl-tail-cli-'));
  await symlink(path.join(ROOT, 'node_modules'), path.join(directory, 'node_modules'), 'dir');
  await writeFile(path.join(directory, 'package.json'), '{ "type": "module" }\n');
  await writeFile(
    path.join(directory, 'tsconfig.json'),
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.json'),
      compilerOptions: { rootDir: ROOT, outDir: directory, noEmit: false, declaration: false, sourceMap: false, incremental: false },
      files: [path.join(ROOT, 'src/cli/main.ts')],
      include: [],
    }),
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    await run(process.execPath, [tsc, '-p', path.join(directory, 'tsconfig.json')], { cwd: ROOT });
  } catch (error) {
    // tsc still emits when some file elsewhere has a type error; only a missing entry point stops the test.
    if ((error as { stdout?: string }).stdout === undefined) throw error;
  }
  return { main: path.join(directory, 'src/cli/main.js'), remove: () => rm(directory, { recursive: true, force: true }) };
}

/** A running `kpl tail` child process. */
export interface TailProcess {
  readonly child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves once stderr holds `text`; rejects after `timeoutMs`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

/** Starts `kpl tail ARGS` from the compiled `main`. */
export function startTail(main: string, args: readonly string[]): TailProcess {
  const child = spawn(process.execPath, [main, 'tail', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env['PATH'], AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    stderr: () => stderr,
    exited,
    async waitFor(text, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(typeof text === 'string' ? stderr.includes(text) : text.test(stderr))) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`kpl tail did not print ${String(text)}; its stderr:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** A writer process appending `lines` numbered lines at `rate` a second, round-robin over `files`. */
export interface WriterProcess {
  readonly child: ChildProcess;
  readonly done: Promise<void>;
  reopen(): void;
  pause(): Promise<void>;
  resume(): void;
}

export function startWriter(rate: number, lines: number, files: readonly string[]): WriterProcess {
  const child = fork(WRITER, [String(rate), String(lines), ...files], { stdio: 'ignore' });
  return {
    child,
    done: once(child, 'exit').then(() => undefined),
    reopen: () => child.send('reopen'),
    pause: async () => {
      child.send('pause');
      await once(child, 'message');
    },
    resume: () => child.send('resume'),
  };
}

/**
 * Every user record of the stream as a KCL reader finds it: aggregates unpacked, and a sub-record
 * counted only where its hash key lies inside the range of the shard that holds its aggregate.
 */
export async function readAsKcl(client: KinesisClient, streamName: string): Promise<string[]> {
  const shards = await listAllShards(client, streamName);
  const ranges = new Map(
    shards.map((shard) => [
      shard.ShardId ?? '',
      [BigInt(shard.HashKeyRange?.StartingHashKey ?? '0'), BigInt(shard.HashKeyRange?.EndingHashKey ?? '0')] as const,
    ]),
  );
  const lines: string[] = [];
  for (const record of await readAllRecords(client, streamName)) {
    const [start, end] = ranges.get(record.shardId) ?? [0n, -1n];
    for (const user of deaggregate(record)) {
      const hashKey = user.explicitHashKey !== undefined ? BigInt(user.explicitHashKey) : md5HashKey(user.partitionKey);
      if (hashKey >= start && hashKey <= end) lines.push(Buffer.from(user.data).toString('utf8'));
    }
  }
  return lines;
}

/** Reads the stream until it holds `count` different lines or `timeoutMs` passes. */
export async function waitForLines(client: KinesisClient, streamName: string, count: number, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = await readAsKcl(client, streamName);
    if (new Set(lines).size >= count || Date.now() > deadline) return lines;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The lines a writer wrote: `line I of FILE ...` for I in [0, total). */
export function expectedLines(total: number, files: readonly string[]): string[] {
  const padding = 'x'.repeat(60);
  return Array.from({ length: total }, (_, i) => `line ${i} of ${files[i % files.length] as string} ${padding}`);
}

/** How often each line occurs. */
export function countLines(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}
