import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** The `kpl` command compiled into a temporary directory, as users run it, without touching dist/. */
export interface CompiledCli {
  /** The path of main.js, to start with node. */
  readonly main: string;
  /** Removes the directory. */
  remove(): Promise<void>;
}

/** Compiles src/cli/main.ts and what it imports into a temporary directory. */
export async function compileCli(): Promise<CompiledCli> {
  const directory = await mkdtemp(path.join(tmpdir(), 'kpl-cli-'));
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
  return { main: path.join(directory, 'src/cli/main.js'), remove: () => rm(directory, { recursive: true, force: true }) };
}

/** What a finished `kpl` process did. */
export interface FinishedKpl {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Starts `kpl ARGS` from a compiled `main` with node. Its environment holds PATH only, so that no
 * AWS credentials or region of the machine reach it, and quiets the SDK's Node version warning.
 */
export function spawnKpl(
  main: string,
  args: readonly string[],
  stdio: { readonly stdin?: 'pipe' | 'ignore'; readonly stdout?: 'pipe' | 'ignore' } = {},
): ChildProcess {
  return spawn(process.execPath, [main, ...args], {
    stdio: [stdio.stdin ?? 'ignore', stdio.stdout ?? 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'], AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
}

/** Resolves once the child has closed, with its exit code and everything it printed from now on. */
export async function finished(child: ChildProcess): Promise<FinishedKpl> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
