import { chmod, copyFile, mkdtemp, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalKinesis } from '../../src/testing/index.js';
import { compileCli } from '../support/compiled-cli.js';
import { createKinesisClient } from '../support/index.js';
import {
  countLines,
  expectedLines,
  readAsKcl,
  startTail,
  startWriter,
  type TailProcess,
  waitForLines,
  type WriterProcess,
} from './cli-tail-harness.js';

/** The rate of the writer process, lines a second. */
const RATE = 2000;

/**
 * `kpl tail` as users run it, a child process, against LocalKinesis (which enforces the shards'
 * write limits), while a writer process appends 2,000 lines a second. Every line must be read back
 * once, the way a KCL reader finds it.
 */
describe('kpl tail', () => {
  let kinesis: LocalKinesis;
  let client: KinesisClient;
  let kpl: { main: string; remove: () => Promise<void> };
  let directory: string;
  let streams = 0;
  const running: Array<TailProcess | WriterProcess> = [];

  const newStream = async (shards = 2): Promise<string> => {
    const name = `tail-${++streams}`;
    await kinesis.createStream(name, shards);
    return name;
  };
  const newDirectory = (): Promise<string> => mkdtemp(path.join(directory, 'case-'));
  const tail = (args: readonly string[]): TailProcess => {
    const process = startTail(kpl.main, ['--endpoint', kinesis.endpoint, ...args]);
    running.push(process);
    return process;
  };
  const writer = (lines: number, files: readonly string[]): WriterProcess => {
    const process = startWriter(RATE, lines, files);
    running.push(process);
    return process;
  };
  const stopTail = async (process: TailProcess): Promise<void> => {
    process.child.kill('SIGTERM');
    expect(await process.exited).toBe(0);
  };

  beforeAll(async () => {
    [kinesis, kpl, directory] = await Promise.all([LocalKinesis.start(), compileCli(), mkdtemp(path.join(tmpdir(), 'kpl-tail-'))]);
    client = createKinesisClient(kinesis.endpoint);
  }, 120_000);
  afterEach(() => {
    for (const process of running.splice(0)) if (process.child.exitCode === null) process.child.kill('SIGKILL');
  });
  afterAll(async () => {
    client.destroy();
    await kinesis.close();
    await kpl.remove();
    await rm(directory, { recursive: true, force: true });
  });

  it('reads every line once through two rotations by rename while the writer writes', async () => {
    const stream = await newStream();
    const cases = await newDirectory();
    const log = path.join(cases, 'app.log');
    await writeFile(log, '');
    const tailer = tail(['--stream', stream, '--from', 'start', path.join(cases, 'app.log*')]);
    await tailer.waitFor('following');
    const lines = 6000;
    const appender = writer(lines, [log]);
    await sleep(1000);
    await rename(log, `${log}.1`);
    appender.reopen();
    await sleep(1000);
    await rename(`${log}.1`, `${log}.2`);
    await rename(log, `${log}.1`);
    appender.reopen();
    await appender.done;

    const stored = await waitForLines(client, stream, lines, 20_000);
    await stopTail(tailer);
    expect(stored).toHaveLength(lines);
    expect(new Set(stored)).toEqual(new Set(expectedLines(lines, [log])));
    expect(tailer.stderr()).toContain(`${log} is now ${log}.1`);
    expect(tailer.stderr()).toContain(`${log}.1 is now ${log}.2`);
  });

  it('reads every line once through a copytruncate, going on in the copy where the original was cut', async () => {
    const stream = await newStream();
    const cases = await newDirectory();
    const log = path.join(cases, 'app.log');
    await writeFile(log, '');
    const tailer = tail(['--stream', stream, '--from', 'start', path.join(cases, 'app.log*')]);
    await tailer.waitFor('following');
    const lines = 6000;
    const appender = writer(lines, [log]);
    await sleep(1200);
    // logrotate's copytruncate loses what is written between its copy and its truncation; the
    // writer pauses there so that the test sees only what the tailer does.
    await appender.pause();
    await copyFile(log, `${log}.1`);
    await truncate(log, 0);
    appender.resume();
    await appender.done;

    const stored = await waitForLines(client, stream, lines, 20_000);
    await stopTail(tailer);
    expect(stored).toHaveLength(lines);
    expect(new Set(stored)).toEqual(new Set(expectedLines(lines, [log])));
    expect(tailer.stderr()).toContain(`${log} was truncated`);
  });

  it('after a SIGKILL resumes from the checkpoint: no line lost, repeats only of lines in flight at the kill', async () => {
    const stream = await newStream();
    const cases = await newDirectory();
    const log = path.join(cases, 'app.log');
    const checkpoint = path.join(cases, 'checkpoint.json');
    await writeFile(log, '');
    const args = ['--stream', stream, '--checkpoint', checkpoint, '--from', 'start', log];
    const first = tail(args);
    await first.waitFor('following');
    const lines = 8000;
    const appender = writer(lines, [log]);
    await sleep(2000);
    first.child.kill('SIGKILL');
    await first.exited;
    const { files } = JSON.parse(await readFile(checkpoint, 'utf8')) as { files: Array<{ path: string; offset: number }> };
    const checkpointed = files.find((entry) => entry.path === log)?.offset ?? 0;
    expect(checkpointed).toBeGreaterThan(0);
    const second = tail(args);
    await appender.done;

    const stored = await waitForLines(client, stream, lines, 20_000);
    await stopTail(second);
    const expected = expectedLines(lines, [log]);
    const counts = countLines(stored);
    const missing = expected.filter((line) => counts.get(line) === undefined);
    expect(missing.length, `${missing[0]}\n${second.stderr()}`).toBe(0);
    // A line may repeat only if it lies after the checkpoint the kill left: it was in flight then.
    let offset = 0;
    const repeatedBeforeCheckpoint: string[] = [];
    let repeats = 0;
    for (const line of expected) {
      const count = counts.get(line) ?? 0;
      if (count > 1) {
        repeats += count - 1;
        if (offset < checkpointed) repeatedBeforeCheckpoint.push(line);
      }
      expect(count).toBeLessThanOrEqual(2);
      offset += Buffer.byteLength(line) + 1;
    }
    expect(repeatedBeforeCheckpoint).toEqual([]);
    expect(stored).toHaveLength(lines + repeats);
    console.log(
      `kpl tail SIGKILL: checkpoint at ${checkpointed.toLocaleString('en-US')} bytes, ${repeats} lines repeated (in flight at the kill)`,
    );
  });

  it('follows fifty files matched by one pattern, created after it started', async () => {
    const stream = await newStream(4);
    const cases = await newDirectory();
    const files = Array.from({ length: 50 }, (_, i) => path.join(cases, `f-${String(i).padStart(2, '0')}.log`));
    const tailer = tail(['--stream', stream, path.join(cases, 'f-*.log')]);
    await tailer.waitFor('following');
    const lines = 5000;
    await writer(lines, files).done;

    const stored = await waitForLines(client, stream, lines, 20_000);
    await stopTail(tailer);
    expect(stored).toHaveLength(lines);
    expect(new Set(stored)).toEqual(new Set(expectedLines(lines, files)));
  });

  it('on SIGTERM sends what it read, writes the checkpoint at the end of the file, and exits 0', async () => {
    const stream = await newStream(1);
    const cases = await newDirectory();
    const log = path.join(cases, 'app.log');
    const checkpoint = path.join(cases, 'checkpoint.json');
    await writeFile(log, Array.from({ length: 500 }, (_, i) => `early ${i}\n`).join(''));
    const tailer = tail(['--stream', stream, '--checkpoint', checkpoint, '--from', 'start', log]);
    await tailer.waitFor('following');
    await writeFile(log, Array.from({ length: 500 }, (_, i) => `late ${i}\n`).join(''), { flag: 'a' });
    await sleep(500);
    await stopTail(tailer);
    const size = (await readFile(log)).length;
    const { files } = JSON.parse(await readFile(checkpoint, 'utf8')) as { files: Array<{ path: string; offset: number }> };
    expect(files).toEqual([expect.objectContaining({ path: log, offset: size })]);
    expect(new Set(await readAsKcl(client, stream)).size).toBe(1000);
    expect(tailer.stderr()).toContain('1,000 lines read, 1,000 records delivered, 0 failed; no file behind');
  });

  it('on SIGTERM exits 0 within requestTimeout plus a second while Kinesis hangs, checkpointing only what was stored', async () => {
    const hanging = await LocalKinesis.start({ streams: [{ name: 'hangs', shards: 1 }], faults: { hangRate: 1 } });
    try {
      const cases = await newDirectory();
      const log = path.join(cases, 'app.log');
      const checkpoint = path.join(cases, 'checkpoint.json');
      await writeFile(log, 'a\nb\nc\n');
      const tailer = startTail(kpl.main, [
        '--endpoint',
        hanging.endpoint,
        '--stream',
        'hangs',
        '--checkpoint',
        checkpoint,
        '--from',
        'start',
        log,
      ]);
      running.push(tailer);
      await tailer.waitFor('following');
      await sleep(500);
      const stoppedAt = Date.now();
      tailer.child.kill('SIGTERM');
      expect(await tailer.exited).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(7000);
      const { files } = JSON.parse(await readFile(checkpoint, 'utf8')) as { files: Array<{ offset: number }> };
      expect(files.map((entry) => entry.offset)).toEqual([0]);
    } finally {
      await hanging.close();
    }
  });

  // Skipped until the spool's feeder stops leaving a rejected promise unhandled when the producer
  // closes with a spooled record in flight (SpoolFeeder #settleWaiter with no waiter): the process
  // then dies of an unhandled rejection. It passes with that fixed.
  it('with --spool checkpoints lines once the spool holds them, through an outage, and a restart delivers them once', async () => {
    const cases = await newDirectory();
    const log = path.join(cases, 'app.log');
    const checkpoint = path.join(cases, 'checkpoint.json');
    const spool = path.join(cases, 'spool');
    const lines = Array.from({ length: 300 }, (_, i) => `spooled ${i}`);
    await writeFile(log, `${lines.join('\n')}\n`);
    const down = await LocalKinesis.start({ streams: [{ name: 'spooled', shards: 1 }], faults: { hangRate: 1 } });
    try {
      const during = startTail(kpl.main, [
        '--endpoint',
        down.endpoint,
        '--stream',
        'spooled',
        '--spool',
        spool,
        '--checkpoint',
        checkpoint,
        '--from',
        'start',
        log,
      ]);
      running.push(during);
      await during.waitFor('following');
      await sleep(1500);
      during.child.kill('SIGTERM');
      expect(await during.exited, during.stderr()).toBe(0);
      expect(during.stderr()).toContain('300 lines read, 300 records spooled, 0 failed; no file behind');
    } finally {
      await down.close();
    }
    const { files } = JSON.parse(await readFile(checkpoint, 'utf8')) as { files: Array<{ offset: number }> };
    expect(files.map((entry) => entry.offset)).toEqual([(await readFile(log)).length]);

    await kinesis.createStream('spooled', 1);
    const after = tail(['--stream', 'spooled', '--spool', spool, '--checkpoint', checkpoint, log]);
    const stored = await waitForLines(client, 'spooled', lines.length, 15_000);
    await stopTail(after);
    expect(stored.sort()).toEqual([...lines].sort());
  });

  it('carries several flows of a --config file into their streams with one producer', async () => {
    const [web, app] = [await newStream(1), await newStream(1)];
    const cases = await newDirectory();
    const config = path.join(cases, 'flows.json');
    await writeFile(path.join(cases, 'web.log'), '{"host":"h1","path":"/"}\n{"host":"h2","path":"/a"}\n');
    await writeFile(path.join(cases, 'app.log'), 'one\ntwo\nthree\n');
    await writeFile(
      config,
      JSON.stringify({
        flows: [
          { name: 'web', patterns: [path.join(cases, 'web.log')], stream: web, format: 'json', keyField: 'host', from: 'start' },
          { name: 'app', patterns: [path.join(cases, 'app*.log')], stream: app, key: 'app', from: 'start' },
        ],
      }),
    );
    const tailer = tail(['--config', config]);
    expect(new Set(await waitForLines(client, web, 2, 10_000))).toEqual(new Set(['{"host":"h1","path":"/"}', '{"host":"h2","path":"/a"}']));
    expect(new Set(await waitForLines(client, app, 3, 10_000))).toEqual(new Set(['one', 'two', 'three']));
    await stopTail(tailer);
  });

  it('rejects a --config error naming the flow and the field, with exit 2', async () => {
    const cases = await newDirectory();
    const config = path.join(cases, 'flows.json');
    await writeFile(config, JSON.stringify({ flows: [{ name: 'web', patterns: ['/var/log/x'], stream: 'web', format: 'xml' }] }));
    const tailer = tail(['--config', config]);
    expect(await tailer.exited).toBe(2);
    expect(tailer.stderr()).toBe(
      `kpl: error: --config ${config}: flow "web", field "format": expected one of lines, json, csv, apache, syslog, got "xml"\n`,
    );
  });

  // Root reads any file whatever its mode, so only another user can see a file it cannot read.
  it.skipIf(process.getuid?.() === 0)('logs a file it cannot read, goes on with the others, and reads it once it can', async () => {
    const stream = await newStream(1);
    const cases = await newDirectory();
    const locked = path.join(cases, 'locked.log');
    await writeFile(locked, 'locked\n');
    await chmod(locked, 0o000);
    await writeFile(path.join(cases, 'good.log'), 'fine\n');
    const tailer = tail(['--stream', stream, '--from', 'start', path.join(cases, '*.log')]);
    expect(await waitForLines(client, stream, 1, 10_000)).toEqual(['fine']);
    await tailer.waitFor(`cannot read ${locked}`);
    await chmod(locked, 0o644);
    expect(new Set(await waitForLines(client, stream, 2, 10_000))).toEqual(new Set(['fine', 'locked']));
    await stopTail(tailer);
    expect(tailer.stderr().match(/cannot read/g)).toHaveLength(1);
  });

  // 100 MB, as the issue asks: 25 s with kpl tail on addWithCallback (17.7 s to read and store) on
  // the shared 2-core machine; KPL_TAIL_LARGE_FILE_MB=25 runs a smaller one on a loaded machine.
  const largeFileMb = Number(process.env['KPL_TAIL_LARGE_FILE_MB'] ?? '100');
  it(`reads a ${largeFileMb} MB file from the start`, async () => {
    const stream = await newStream(16);
    const cases = await newDirectory();
    const log = path.join(cases, 'big.log');
    const lineCount = largeFileMb * 1000;
    const text: string[] = [];
    for (let i = 0; i < lineCount; i++) text.push(`${String(i).padStart(8, '0')} ${'y'.repeat(990)}`);
    await writeFile(log, `${text.join('\n')}\n`);
    text.length = 0;
    const started = Date.now();
    const tailer = tail(['--stream', stream, '--from', 'start', '--metrics-port', '0', log]);
    await tailer.waitFor('metrics at');
    const metricsUrl = /metrics at (\S+)/.exec(tailer.stderr())?.[1] as string;
    // Read the stream once, when the producer says every record is stored: 100 MB is too much to read again and again.
    let metrics = '';
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
      metrics = await (await fetch(metricsUrl)).text();
      if (Number(/^kpl_user_records_put_total\{[^}]*\} (\d+)$/m.exec(metrics)?.[1] ?? '0') >= lineCount) break;
    }
    const seconds = (Date.now() - started) / 1000;
    await stopTail(tailer);
    expect(metrics).toMatch(new RegExp(`^kpl_tail_lines_read_total\\{flow="default"\\} ${lineCount}$`, 'm'));
    expect(metrics).toMatch(new RegExp(`^kpl_tail_bytes_behind\\{flow="default",file="${log}"\\} 0$`, 'm'));
    const reader = createKinesisClient(kinesis.endpoint, { requestTimeoutMs: 60_000 });
    const stored = await readAsKcl(reader, stream).finally(() => reader.destroy());
    expect(new Set(stored).size).toBe(lineCount);
    // On this shared machine a PutRecords may time out after kinesalite stored it; the producer then
    // sends it again, as the KPL does. Only such a retried request may leave a repeat.
    const errors = Number(/^kpl_all_errors_total\{[^}]*\} (\d+)$/m.exec(metrics)?.[1] ?? '0');
    if (errors === 0) expect(stored.length, tailer.stderr()).toBe(lineCount);
    else {
      const codes = metrics
        .split('\n')
        .filter((line) => line.startsWith('kpl_errors_by_code_total'))
        .join('; ');
      console.log(`kpl tail: ${stored.length - lineCount} repeats after ${errors} failed PutRecords attempts: ${codes}`);
    }
    console.log(`kpl tail: ${largeFileMb} MB (${lineCount.toLocaleString('en-US')} lines) read and stored in ${seconds.toFixed(1)} s`);
  }, 120_000);
});
