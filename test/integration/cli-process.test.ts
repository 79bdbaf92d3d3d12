import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCli, type CompiledCli, finished, spawnKpl } from '../support/compiled-cli.js';
import { createKinesisClient } from '../support/index.js';

/**
 * The `kpl` command as users run it: compiled (only src/cli/main.ts and what it imports) into a
 * temporary directory, so that the test neither needs nor disturbs dist/, and started with node.
 */
describe('kpl as a process', () => {
  let cli: CompiledCli;
  const children = new Set<ChildProcess>();

  const kpl = (args: readonly string[]): ChildProcess => {
    const child = spawnKpl(cli.main, args);
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  beforeAll(async () => {
    cli = await compileCli();
  }, 120_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await cli?.remove();
  });

  it('rejects a bad flag with exactly one line on stderr and exit code 2', async () => {
    const { code, stdout, stderr } = await finished(kpl(['bench', '--shard', '4']));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe("kpl: error: unknown option '--shard' (Did you mean --shards?)\n");
  });

  it('shows examples in the help of kpl and of each command', async () => {
    for (const args of [['--help'], ['bench', '--help'], ['send', '--help'], ['local', '--help']]) {
      const { code, stdout } = await finished(kpl(args));
      expect(code, args.join(' ')).toBe(0);
      expect(stdout, args.join(' ')).toMatch(/Examples:\n\s+\$ .*kpl /);
    }
  });

  it('kpl local prints its endpoint on the first line, serves it, and stops on SIGTERM', async () => {
    const child = kpl(['local', '--port', '0', '--shards', '3', '--stream', 'served']);
    const exited = finished(child);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const [endpoint] = (await once(lines, 'line')) as [string];
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = createKinesisClient(endpoint);
    try {
      const listed = await client.send(new ListShardsCommand({ StreamName: 'served' }));
      expect(listed.Shards).toHaveLength(3);
    } finally {
      client.destroy();
    }
    child.kill('SIGTERM');
    const { code, stderr } = await exited;
    expect(code).toBe(0);
    expect(stderr).toContain('kpl local: SIGTERM: stopped');
  });

  it('kpl bench --json runs against the embedded Kinesis in a child process and loses nothing', async () => {
    const { code, stdout } = await finished(kpl(['bench', '--records', '20000', '--json', '--verify']));
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
    expect(summary).toMatchObject({ records: 20_000, delivered: 20_000, lost: 0, readBack: { found: 20_000, missing: 0, duplicates: 0 } });
    expect(summary['target']).not.toContain('in this process');
  });
});
