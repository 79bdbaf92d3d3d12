import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { LocalKinesis } from '../../src/testing/index.js';
import { createKinesisClient } from '../support/index.js';
import { readBackLikeKcl } from '../support/kcl-read-back.js';
import { testIo } from './cli-io.js';

describe('kpl send --spool', () => {
  let kinesis: LocalKinesis;
  let directory: string;
  let streams = 0;
  const newStream = async (): Promise<string> => {
    const name = `spool-send-${++streams}`;
    await kinesis.createStream(name, 2);
    return name;
  };
  const readBack = async (streamName: string): Promise<string[]> => {
    const client = createKinesisClient(kinesis.endpoint);
    try {
      return await readBackLikeKcl(client, streamName);
    } finally {
      client.destroy();
    }
  };

  beforeAll(async () => {
    kinesis = await LocalKinesis.start();
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-send-spool-'));
  });
  afterAll(async () => {
    await kinesis.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('forwards its input through the spool and exits 0 with the spool empty', async () => {
    const streamName = await newStream();
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: `d${i % 13}`, n: i }));
    const { io, stderr } = testIo(`${lines.join('\n')}\n`);
    const spool = path.join(directory, 'forward');
    const code = await runCli(['send', '--endpoint', kinesis.endpoint, '--stream', streamName, '--key-field', 'id', '--spool', spool], io);
    expect(stderr()).toContain('5,000 lines read, 5,000 records delivered, 0 failed, 0 waiting in the spool');
    expect(code).toBe(0);
    expect((await readBack(streamName)).sort()).toEqual(lines.slice().sort());
  });

  it('on SIGTERM during an outage leaves the records in the spool, says how many, and a second run with no input delivers them', async () => {
    const streamName = await newStream();
    const spool = path.join(directory, 'outage');
    await kinesis.setOutage(true);
    const input = new PassThrough();
    const first = testIo(input);
    const running = runCli(
      ['send', '--endpoint', kinesis.endpoint, '--stream', streamName, '--spool', spool, '--spool-sync', '5'],
      first.io,
    );
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    input.write(`${lines.join('\n')}\n`);
    await sleep(500);
    first.stop();
    const firstCode = await running;
    await kinesis.setOutage(false);
    expect(first.stderr()).toContain('300 lines read, 0 records delivered, 0 failed, 300 waiting in the spool');
    expect(firstCode).toBe(0);

    const second = testIo('');
    const secondCode = await runCli(['send', '--endpoint', kinesis.endpoint, '--stream', streamName, '--spool', spool], second.io);
    expect(second.stderr()).toContain('300 records from an earlier run wait');
    expect(second.stderr()).toContain('0 lines read, 300 records delivered, 0 failed, 0 waiting in the spool');
    expect(secondCode).toBe(0);
    expect((await readBack(streamName)).sort()).toEqual(lines.slice().sort());
  });

  it('reads lines as without --spool: one missing its key field or not JSON is sent as it is, counted as unparsed, exit 0', async () => {
    const streamName = await newStream();
    const { io, stderr } = testIo('{"id":"a"}\nnot json\n{"other":1}\n{"id":7}\n');
    const spool = path.join(directory, 'unparsed');
    const code = await runCli(['send', '--endpoint', kinesis.endpoint, '--stream', streamName, '--key-field', 'id', '--spool', spool], io);
    expect(code).toBe(0);
    expect(stderr()).toContain('kpl send: stdin:2: the line is not JSON');
    expect(stderr()).toContain(
      '4 lines read, 4 records delivered, 0 failed, 0 waiting in the spool ' +
        spool +
        '; 2 lines unparsed, sent as they are (NotJson 1, KeyFieldMissing 1)',
    );
    expect((await readBack(streamName)).sort()).toEqual(['not json', '{"id":"a"}', '{"id":7}', '{"other":1}']);
  });

  it('skips unparsed lines with --unparsed skip, and takes --format csv', async () => {
    const streamName = await newStream();
    const { io, stderr } = testIo('d1,20\n,5\n');
    const spool = path.join(directory, 'csv');
    const code = await runCli(
      [
        'send',
        '--endpoint',
        kinesis.endpoint,
        '--stream',
        streamName,
        '--format',
        'csv',
        '--fields',
        'id,temp',
        '--key-field',
        'id',
        '--unparsed',
        'skip',
        '--spool',
        spool,
      ],
      io,
    );
    expect(code).toBe(0);
    expect(stderr()).toContain('2 lines read, 1 records delivered, 0 failed, 0 waiting in the spool');
    expect(stderr()).toContain('1 lines unparsed, skipped');
    expect(await readBack(streamName)).toEqual(['{"id":"d1","temp":"20"}']);
  });

  it('refuses a spool directory that another process holds, in one line', async () => {
    const streamName = await newStream();
    const spool = path.join(directory, 'locked');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(spool, { recursive: true });
    await writeFile(path.join(spool, 'LOCK'), `${process.ppid}\n`);
    const { io, stderr } = testIo('a\n');
    const code = await runCli(['send', '--endpoint', kinesis.endpoint, '--stream', streamName, '--spool', spool], io);
    expect(code).toBe(1);
    expect(stderr()).toMatch(/spool directory is in use by process \d+/);
  });
});
