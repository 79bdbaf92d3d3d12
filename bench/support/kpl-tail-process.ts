/**
 * A real `kpl tail` process, measured from outside: its CPU time from /proc/PID/stat (user +
 * system, every thread), and its progress from its checkpoint file, which says how far each file
 * is stored. The files to forward are hard-linked into the directory it follows, so each appears
 * whole at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { link, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The compiled `kpl` command beside this bench (dist/bench/support -> dist/src/cli/main.js). */
const KPL_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** How often the checkpoint file is read while waiting; `kpl tail` writes it once a second at most. */
const POLL_MS = 20;
/** Longest wait for one file to be stored, so that a broken run fails instead of hanging. */
const MAX_WAIT_MS = 120_000;
/** Clock ticks a second of /proc/PID/stat's CPU times (USER_HZ), 100 on every Linux Node runs on. */
const TICKS_PER_SECOND = 100;

/** What the measured file cost the `kpl tail` process. */
export interface TailMeasurement {
  /** CPU seconds from the measured file's appearance until the checkpoint says it is all stored. */
  readonly cpuSeconds: number;
  /** CPU seconds of the whole process at that moment: startup, warm-up and the measured file. */
  readonly processCpuSeconds: number;
  /** Wall seconds over the same span; includes up to a second of waiting for the checkpoint to be written. */
  readonly wallSeconds: number;
}

/** Options of {@link measureKplTail}. */
export interface KplTailRun {
  readonly endpoint: string;
  readonly stream: string;
  readonly keyField: string;
  /** Forwarded first, and waited for: the figures are the steady state. */
  readonly warmUp: string;
  /** The file measured. */
  readonly file: string;
  /** Node flags for the `kpl tail` process, e.g. --cpu-prof. */
  readonly execArgv?: readonly string[];
}

/**
 * Starts `kpl tail --from start --checkpoint F --key-field K` on an empty directory, forwards the
 * warm-up file, then the measured one, and stops it with SIGTERM.
 *
 * @throws when `kpl tail` exits early, exits other than 0 after SIGTERM, or does not store a file within two minutes.
 */
export async function measureKplTail(run: KplTailRun): Promise<TailMeasurement> {
  const directory = await mkdtemp(path.join(tmpdir(), 'kpl-forward-tail-'));
  const followed = path.join(directory, 'followed');
  const checkpoint = path.join(directory, 'checkpoint.json');
  await mkdir(followed);
  const args = [
    ...(run.execArgv ?? []),
    KPL_MAIN,
    'tail',
    ...['--endpoint', run.endpoint, '--stream', run.stream, '--key-field', run.keyField],
    ...['--from', 'start', '--checkpoint', checkpoint, path.join(followed, '*.ndjson')],
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env['PATH'], AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = once(child, 'exit');
  try {
    await forward(child, run.warmUp, followed, checkpoint, () => stderr);
    const cpuBefore = await cpuSecondsOf(child);
    const started = performance.now();
    await forward(child, run.file, followed, checkpoint, () => stderr);
    const wallSeconds = (performance.now() - started) / 1000;
    const processCpuSeconds = await cpuSecondsOf(child);
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    if (code !== 0) throw new Error(`kpl tail exited ${String(code)} after SIGTERM; its stderr:\n${stderr}`);
    return { cpuSeconds: processCpuSeconds - cpuBefore, processCpuSeconds, wallSeconds };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(directory, { recursive: true, force: true });
  }
}

/** Links `file` into the followed directory and resolves once the checkpoint has its every byte stored. */
async function forward(child: ChildProcess, file: string, followed: string, checkpoint: string, stderr: () => string): Promise<void> {
  const linked = path.join(followed, path.basename(file));
  const { size } = await stat(file);
  await link(file, linked);
  const deadline = Date.now() + MAX_WAIT_MS;
  while ((await storedOffset(checkpoint, linked)) < size) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`kpl tail exited early; its stderr:\n${stderr()}`);
    if (Date.now() > deadline) throw new Error(`kpl tail did not store ${linked} within ${MAX_WAIT_MS} ms; its stderr:\n${stderr()}`);
    await sleep(POLL_MS);
  }
}

/** The checkpoint's offset for `file`: 0 while there is no checkpoint, or no entry for it yet. */
async function storedOffset(checkpoint: string, file: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(checkpoint, 'utf8');
  } catch {
    return 0;
  }
  const { files } = JSON.parse(text) as { files: Array<{ path: string; offset: number }> };
  return files.find((entry) => entry.path === file)?.offset ?? 0;
}

/** User + system CPU seconds of a running child, all its threads. */
async function cpuSecondsOf(child: ChildProcess): Promise<number> {
  const stat = await readFile(`/proc/${String(child.pid)}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state, the third field: utime is the 14th, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
