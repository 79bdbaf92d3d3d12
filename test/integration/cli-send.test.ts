import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { deaggregate } from '../../src/index.js';
import { LocalKinesis } from '../../src/testing/index.js';
import { createKinesisClient, readAllRecords } from '../support/index.js';
import { testIo } from './cli-io.js';

/** Every user record of the stream, unpacked as a consumer would: data as text, with its partition key. */
async function readBack(client: KinesisClient, streamName: string): Promise<Array<{ data: string; partitionKey: string }>> {
  const records = await readAllRecords(client, streamName);
  return records.flatMap((record) =>
    deaggregate(record).map((user) => ({ data: Buffer.from(user.data).toString('utf8'), partitionKey: user.partitionKey })),
  );
}

describe('kpl send', () => {
  let kinesis: LocalKinesis;
  let client: KinesisClient;
  let directory: string;
  let streams = 0;
  const newStream = async (shards = 2): Promise<string> => {
    const name = `send-${++streams}`;
    await kinesis.createStream(name, shards);
    return name;
  };

  beforeAll(async () => {
    kinesis = await LocalKinesis.start();
    client = createKinesisClient(kinesis.endpoint);
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-send-'));
  });
  afterAll(async () => {
    client.destroy();
    await kinesis.close();
    await rm(directory, { recursive: true, force: true });
  });

  it("forwards a 100,000-line file completely, through the shards' write limits", async () => {
    const streamName = await newStream();
    const lines = Array.from({ length: 100_000 }, (_, i) => JSON.stringify({ device: `d${i % 97}`, n: i }));
    const file = path.join(directory, 'lines.ndjson');
    await writeFile(file, `${lines.join('\n')}\n`);
    const { io, stderr } = testIo();

    const exitCode = await runCli(['send', '--endpoint', kinesis.endpoint, '--stream', streamName, file], io);

    expect(stderr()).toContain('100,000 lines read, 100,000 records delivered, 0 failed');
    expect(exitCode).toBe(0);
    const stored = await readBack(client, streamName);
    expect(stored).toHaveLength(100_000);
    expect(new Set(stored.map((record) => record.data))).toEqual(new Set(lines));
  });

  it('takes partition keys from a JSON field, reads stdin, and skips empty lines', async () => {
    const streamName = await newStream();
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ meta: { device: `dev-${i % 10}` }, n: i }));
    const { io } = testIo(`${lines.join('\n')}\n\n`);

    const exitCode = await runCli(['send', '--endpoint', kinesis.endpoint, '--stream', streamName, '--key-field', 'meta.device'], io);

    expect(exitCode).toBe(0);
    const stored = await readBack(client, streamName);
    expect(stored).toHaveLength(1000);
    for (const record of stored) expect(record.partitionKey).toBe((JSON.parse(record.data) as { meta: { device: string } }).meta.device);
  });

  it('sends a line that is not JSON or lacks its key field as it is, with a random key, counts it and exits 0', async () => {
    const streamName = await newStream(1);
    const { io, stderr } = testIo('{"id":"a"}\nnot json\n{"id":"b"}\n{"other":1}\n{"id":7}\n');

    const exitCode = await runCli(['send', '--endpoint', kinesis.endpoint, '--stream', streamName, '--key-field', 'id'], io);

    expect(exitCode).toBe(0);
    expect(stderr()).toContain('kpl send: stdin:2: the line is not JSON');
    expect(stderr()).toContain(
      '5 lines read, 5 records delivered, 0 failed; 2 lines unparsed, sent as they are (NotJson 1, KeyFieldMissing 1)',
    );
    const stored = await readBack(client, streamName);
    expect(stored.map((record) => record.data).sort()).toEqual(['not json', '{"id":"a"}', '{"id":"b"}', '{"id":7}', '{"other":1}']);
    expect(
      stored
        .filter((record) => record.data.startsWith('{"id"'))
        .map((record) => record.partitionKey)
        .sort(),
    ).toEqual(['7', 'a', 'b']);
  });

  it('skips unparsed lines with --unparsed skip', async () => {
    const streamName = await newStream(1);
    const { io, stderr } = testIo('{"id":"a"}\nnot json\n');
    expect(
      await runCli(['send', '--endpoint', kinesis.endpoint, '--stream', streamName, '--key-field', 'id', '--unparsed', 'skip'], io),
    ).toBe(0);
    expect(stderr()).toContain('2 lines read, 1 records delivered, 0 failed; 1 lines unparsed, skipped (NotJson 1)');
    expect((await readBack(client, streamName)).map((record) => record.data)).toEqual(['{"id":"a"}']);
  });

  it('turns CSV with a header, a delimiter and quoted delimiters into JSON records keyed by a column', async () => {
    const streamName = await newStream();
    const file = path.join(directory, 'orders.csv');
    await writeFile(file, 'id;customer;total\r\n1042;"Smith; John";19.99\r\n1043;"O\'Neil ""Jr""";5\r\n');
    const { io, stderr } = testIo();

    const exitCode = await runCli(
      [
        'send',
        '--endpoint',
        kinesis.endpoint,
        '--stream',
        streamName,
        '--format',
        'csv',
        '--fields',
        'id,customer,total',
        '--delimiter',
        ';',
        '--skip-header-lines',
        '1',
        '--key-field',
        'id',
        file,
      ],
      io,
    );

    expect(stderr()).toContain('3 lines read, 2 records delivered, 0 failed');
    expect(exitCode).toBe(0);
    const stored = await readBack(client, streamName);
    expect(stored.map((record) => [record.partitionKey, JSON.parse(record.data) as unknown]).sort()).toEqual([
      ['1042', { id: '1042', customer: 'Smith; John', total: '19.99' }],
      ['1043', { id: '1043', customer: 'O\'Neil "Jr"', total: '5' }],
    ]);
  });

  it("joins a Java stack trace into one record with --multiline-start, the file's last line without a line break included", async () => {
    const streamName = await newStream(1);
    const file = path.join(directory, 'app.log');
    await writeFile(file, '2026-12-05 ERROR failed\njava.lang.IllegalStateException: x\n\tat a.B.c(B.java:1)\n2026-12-05 INFO ok');
    const { io } = testIo();
    expect(
      await runCli(
        ['send', '--endpoint', kinesis.endpoint, '--stream', streamName, '--key', 'app', '--multiline-start', '^\\d{4}-', file],
        io,
      ),
    ).toBe(0);
    expect((await readBack(client, streamName)).map((record) => record.data)).toEqual([
      '2026-12-05 ERROR failed\njava.lang.IllegalStateException: x\n\tat a.B.c(B.java:1)',
      '2026-12-05 INFO ok',
    ]);
  });

  it('rejects --format csv without --fields, and a bad --multiline-start, with one line and exit 2', async () => {
    const first = testIo();
    expect(await runCli(['send', '--stream', 's', '--format', 'csv'], first.io)).toBe(2);
    expect(first.stderr()).toMatch(/^kpl: .*--format csv needs --fields.*\n$/);
    const second = testIo();
    expect(await runCli(['send', '--stream', 's', '--multiline-start', '('], second.io)).toBe(2);
    expect(second.stderr()).toMatch(/^kpl: .*regular expression.*\n$/);
    const third = testIo();
    expect(await runCli(['send', '--stream', 's', '--delimiter', ';'], third.io)).toBe(2);
    expect(third.stderr()).toMatch(/^kpl: .*--delimiter is the CSV delimiter; it needs --format csv.*\n$/);
  });

  it('on SIGTERM sends what it has read, then stops with its counts', async () => {
    const streamName = await newStream(1);
    const stdin = new PassThrough();
    const { io, stderr, stop } = testIo(stdin);
    const running = runCli(['send', '--endpoint', kinesis.endpoint, '--stream', streamName, '--key', 'fixed', '--linger', '60000'], io);
    for (let i = 0; i < 500; i++) stdin.write(`line ${i}\n`);
    // The lines are read, and wait in the producer for the 60 s linger; SIGTERM must flush them.
    await sleep(200);
    stop();

    expect(await running).toBe(0);
    expect(stderr()).toContain('SIGTERM: sending what was read');
    expect(stderr()).toContain('500 lines read, 500 records delivered, 0 failed');
    const stored = await readBack(client, streamName);
    expect(stored.map((record) => record.data).sort()).toEqual(Array.from({ length: 500 }, (_, i) => `line ${i}`).sort());
    stdin.destroy();
  });

  it('on a second SIGTERM stops waiting for records in flight and exits 1', async () => {
    const hanging = await LocalKinesis.start({ streams: [{ name: 'hangs', shards: 1 }], faults: { hangRate: 1 } });
    try {
      const { io, stderr, stop } = testIo(new PassThrough().end('a\nb\nc\n'));
      const running = runCli(['send', '--endpoint', hanging.endpoint, '--stream', 'hangs', '--linger', '10'], io);
      await sleep(300);
      stop();
      await sleep(100);
      stop();
      expect(await running).toBe(1);
      expect(stderr()).toContain('SIGTERM again: not waiting for 3 records in flight');
      expect(stderr()).toContain('3 lines read, 0 records delivered, 0 failed, 3 abandoned in flight');
    } finally {
      await hanging.close();
    }
  });

  it('fails every record of a stream that does not exist, and exits 1', async () => {
    const { io, stderr } = testIo('a\nb\n');
    const exitCode = await runCli(['send', '--endpoint', kinesis.endpoint, '--stream', 'no-such-stream'], io);
    expect(exitCode).toBe(1);
    expect(stderr()).toMatch(/2 lines read, 0 records delivered, 2 failed \(ResourceNotFoundException 2\)/);
  });

  it('rejects a missing --stream with one line and exit 2', async () => {
    const { io, stderr } = testIo();
    expect(await runCli(['send', 'file.txt'], io)).toBe(2);
    expect(stderr()).toBe("kpl: error: required option '--stream <name>' not specified\n");
  });
});
