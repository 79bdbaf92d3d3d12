import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { deaggregate } from '../../src/index.js';
import { spawnKpl } from '../support/compiled-cli.js';
import { listAllShards, md5HashKey, readAllRecords } from '../support/index.js';

const WRITER = fileURLToPath(new URL('./cli-tail-writer.mjs', import.meta.url));

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
  const child = spawnKpl(main, ['tail', ...args], { stdout: 'ignore' });
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
