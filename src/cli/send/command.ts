import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import { KinesisProducer } from '../../producer.js';
import { KplError, UserRecordFailedError } from '../../records.js';
import type { CliIo } from '../io.js';
import { endpointUrl, localCredentials, streamName, wholeNumber } from '../options.js';
import { keySource, type KeySource, lineToRecord } from './line-records.js';
import { sendSpooled } from './spooled-send.js';

interface SendOptions {
  readonly stream: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly keyField?: string;
  readonly key?: string;
  readonly linger: number;
  readonly maxOutstanding: number;
  readonly spool?: string;
  readonly spoolSync: number;
  readonly reportDurable?: boolean;
}

/** Bytes of records accepted and not yet settled; with maxOutstandingRecords, the memory bound of `kpl send`. */
const MAX_OUTSTANDING_BYTES = 64 * 1024 * 1024;
/** Problems printed one by one before `kpl send` only counts them. */
const PROBLEMS_SHOWN = 5;

/** `kpl send`: forwards newline-delimited records from stdin or files to a stream. */
export function sendCommand(io: CliIo, setExitCode: (code: number) => void): Command {
  return new Command('send')
    .description('send newline-delimited records from stdin or files to a stream, one record a line')
    .argument('[file...]', 'files to read in turn; stdin when none')
    .requiredOption('--stream <name>', 'the stream to write to', streamName)
    .option('--endpoint <url>', 'Kinesis endpoint, e.g. a local one; default: AWS in the region', endpointUrl)
    .option('--region <region>', 'AWS region; default: AWS_REGION from the environment')
    .addOption(new Option('--key-field <field>', 'partition key from this JSON field of each line (a.b for nested fields)').conflicts('key'))
    .option('--key <key>', 'one partition key for every line (all go to one shard)')
    .option('--linger <ms>', 'producer recordMaxBufferedTime', wholeNumber(1, 600_000), 100)
    .option('--max-outstanding <records>', 'records held in memory at most before reading pauses', wholeNumber(1, 10_000_000), 100_000)
    .option('--spool <dir>', 'spool records on disk in DIR before sending: safe across outages, crashes and restarts; run again with the same DIR to deliver what waits there')
    .option('--spool-sync <ms>', 'with --spool: most time between two fsyncs of the spool (0: back to back)', wholeNumber(0, 60_000), 100)
    .option('--report-durable', 'with --spool: print "durable N" on stdout whenever the first N lines read are safe on disk')
    .addHelpText('after', `
Without --key-field or --key each line gets a random partition key. Empty lines are skipped.
Credentials come from the usual AWS environment (variables, profile, instance role); against a
local endpoint (127.0.0.1 or localhost) without any, dummy ones are used. It flushes at the end of
the input and on Ctrl-C or SIGTERM (a second one stops waiting for records in flight), prints its
counts on stderr, and exits 1 if any record failed or was abandoned.

With --spool DIR every line is on disk before more is read (reading pauses while the spool is full),
and a stop signal stops at once: what is not yet delivered stays in DIR. Run again with the same DIR
(and no input, e.g. < /dev/null) to deliver what waits there; it exits 0 once the spool is empty.

Examples:
  $ tail -F /var/log/telemetry.ndjson | kpl send --stream telemetry --key-field deviceId
  $ kpl send --stream events --region eu-west-1 events-1.ndjson events-2.ndjson
  $ kpl send --endpoint http://127.0.0.1:4567 --stream kpl-local --key k1 < lines.txt
  $ tail -F /var/log/telemetry.ndjson | kpl send --stream telemetry --spool /var/spool/kpl`)
    .action(async (files: string[], options: SendOptions) => {
      setExitCode(await send(files, options, io));
    });
}

interface Counts {
  lines: number;
  delivered: number;
  failed: number;
  readonly failuresByCode: Map<string, number>;
}

async function send(files: readonly string[], options: SendOptions, io: CliIo): Promise<number> {
  const credentials = localCredentials(options.endpoint, io.env);
  const config = {
    streamName: options.stream,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    recordMaxBufferedTime: options.linger,
    maxOutstandingRecords: options.maxOutstanding,
    maxOutstandingBytes: MAX_OUTSTANDING_BYTES,
    metricsLevel: 'none',
  } as const;
  if (options.spool !== undefined) {
    return sendSpooled(files, {
      producer: config,
      directory: options.spool,
      syncIntervalMs: options.spoolSync,
      reportDurable: options.reportDurable === true,
      source: keySource(options.keyField, options.key),
    }, io);
  }
  const producer = new KinesisProducer(config);
  const counts: Counts = { lines: 0, delivered: 0, failed: 0, failuresByCode: new Map() };
  let problemsShown = 0;
  const fail = (line: number, code: string, message: string): void => {
    counts.failed++;
    counts.failuresByCode.set(code, (counts.failuresByCode.get(code) ?? 0) + 1);
    if (problemsShown++ < PROBLEMS_SHOWN) io.stderr.write(`kpl send: line ${line.toLocaleString('en-US')}: ${message}\n`);
  };
  const stop = new AbortController();
  // A second signal gives up waiting for the records in flight; they are counted as not delivered.
  const giveUp = new AbortController();
  const stopListening = io.onStopSignal((signal) => {
    if (stop.signal.aborted) {
      io.stderr.write(`kpl send: ${signal} again: not waiting for ${producer.outstandingRecords.toLocaleString('en-US')} records in flight\n`);
      giveUp.abort();
      return;
    }
    io.stderr.write(`kpl send: ${signal}: sending what was read, then stopping (again to give up)\n`);
    stop.abort();
  });
  const source = keySource(options.keyField, options.key);
  try {
    const inputs = files.length === 0 ? [() => io.stdin] : files.map((file) => () => createReadStream(file));
    for (const open of inputs) {
      if (stop.signal.aborted) break;
      await forwardLines(open(), source, producer, counts, fail, stop.signal);
    }
  } catch (error) {
    io.stderr.write(`kpl send: ${error instanceof Error ? error.message : String(error)}\n`);
    counts.failuresByCode.set('ReadError', (counts.failuresByCode.get('ReadError') ?? 0) + 1);
  } finally {
    await Promise.race([producer.close(), once(giveUp.signal, 'abort')]);
    stopListening();
  }
  const abandoned = producer.outstandingRecords;
  const byCode = [...counts.failuresByCode].map(([code, n]) => `${code} ${n.toLocaleString('en-US')}`).join(', ');
  io.stderr.write(`kpl send: ${counts.lines.toLocaleString('en-US')} lines read, ${counts.delivered.toLocaleString('en-US')} records delivered, `
    + `${counts.failed.toLocaleString('en-US')} failed${byCode === '' ? '' : ` (${byCode})`}`
    + `${abandoned > 0 ? `, ${abandoned.toLocaleString('en-US')} abandoned in flight` : ''}\n`);
  return counts.failuresByCode.size > 0 || abandoned > 0 ? 1 : 0;
}

async function forwardLines(input: NodeJS.ReadableStream, source: KeySource, producer: KinesisProducer, counts: Counts,
  fail: (line: number, code: string, message: string) => void, signal: AbortSignal): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  const aborted = (): void => lines.close();
  signal.addEventListener('abort', aborted);
  // A missing file errors on the stream, not on the line reader.
  const failed = once(input as NodeJS.EventEmitter, 'error').then(([error]) => {
    throw error;
  });
  failed.catch(() => undefined);
  try {
    const reading = (async () => {
      for await (const line of lines) {
        if (line === '') continue;
        const lineNumber = ++counts.lines;
        const record = lineToRecord(line, source);
        if ('code' in record) {
          fail(lineNumber, record.code, record.message);
          continue;
        }
        await waitForRoom(producer, Buffer.byteLength(line) + record.partitionKey.length);
        producer.add(record).then(() => {
          counts.delivered++;
        }, (error: unknown) => {
          fail(lineNumber, codeOf(error), error instanceof Error ? error.message : String(error));
        });
        if (signal.aborted) break;
      }
    })();
    await Promise.race([reading, failed]);
  } finally {
    signal.removeEventListener('abort', aborted);
    lines.close();
  }
}

/** Waits until the producer has room for a record of `bytes` bytes (data plus key) under both of its limits. */
async function waitForRoom(producer: KinesisProducer, bytes: number): Promise<void> {
  // A record larger than the whole byte limit never fits; add() rejects it, as it rejects any record over 1 MiB.
  if (bytes > MAX_OUTSTANDING_BYTES) return;
  for (;;) {
    await producer.ready();
    if (producer.outstandingBytes + bytes <= MAX_OUTSTANDING_BYTES) return;
    await sleep(1);
  }
}

function codeOf(error: unknown): string {
  if (error instanceof UserRecordFailedError) return error.attempts[error.attempts.length - 1]?.errorCode ?? error.code;
  if (error instanceof KplError) return error.code;
  return error instanceof Error ? error.name : 'Unknown';
}
