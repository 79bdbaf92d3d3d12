import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../support/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** What a finished `kpl` process did. */
interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The `kpl` command as users run it: compiled (only src/cli/main.ts and what it imports) into a
 * temporary directory, so that the test neither needs nor disturbs dist/, and started with node.
 */
describe('kpl as a process', () => {
  let directory: string;
  let main: string;
  const children = new Set<ChildProcess>();

  const kpl = (args: readonly string[]): ChildProcess => {
    const child = spawn(process.execPath, [main, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'], AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  const finish = async (child: ChildProcess): Promise<Finished> => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-cli-'));
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
      const { stdout } = error as { stdout?: string };
      if (stdout === undefined) throw error;
    }
    main = path.join(directory, 'src/cli/main.js');
  }, 120_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
  });

  it('rejects a bad flag with exactly one line on stderr and exit code 2', async () => {
    const { code, stdout, stderr } = await finish(kpl(['bench', '--shard', '4']));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe("kpl: error: unknown option '--shard' (Did you mean --shards?)\n");
  });

  it('shows examples in the help of kpl and of each command', async () => {
    for (const args of [['--help'], ['bench', '--help'], ['send', '--help'], ['local', '--help']]) {
      const { code, stdout } = await finish(kpl(args));
      expect(code, args.join(' ')).toBe(0);
      expect(stdout, args.join(' ')).toMatch(/Examples:\n\s+\$ .*kpl /);
    }
  });

  it('kpl local prints its endpoint on the first line, serves it, and stops on SIGTERM', async () => {
    const child = kpl(['local', '--port', '0', '--shards', '3', '--stream', 'served']);
    const finished = finish(child);
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
    const { code, stderr } = await finished;
    expect(code).toBe(0);
    expect(stderr).toContain('kpl local: SIGTERM: stopped');
  });

  it('kpl bench --json runs against the embedded Kinesis in a child process and loses nothing', async () => {
    const { code, stdout } = await finish(kpl(['bench', '--records', '20000', '--json', '--verify']));
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
    expect(summary).toMatchObject({ records: 20_000, delivered: 20_000, lost: 0, readBack: { found: 20_000, missing: 0, duplicates: 0 } });
    expect(summary['target']).not.toContain('in this process');
  });
});
