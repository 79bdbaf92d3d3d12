import { execFile } from 'node:child_process';
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
