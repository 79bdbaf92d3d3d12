import { once } from 'node:events';
import { Command } from 'commander';
import { KinesisProducer } from '../../producer.js';
import { KplError, UserRecordFailedError } from '../../records.js';
import type { CliIo } from '../io.js';
import type { LineRecordOptions } from '../lines/line-record-options.js';
import { addRecordFlags, type RecordFlags, recordOptionsFrom } from '../lines/record-flags.js';
import { endpointUrl, localCredentials, streamName, USAGE_EXIT_CODE, wholeNumber } from '../options.js';
import { CodeCounts, unparsedSummary } from './code-counts.js';
import { DeliverySink } from './delivery-sink.js';
import { forwardInputs, type InputOptions } from './forward-input.js';
import { sendSpooled } from './spooled-send.js';

interface SendOptions extends RecordFlags {
  readonly stream: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly linger: number;
  readonly maxOutstanding: number;
  readonly spool?: string;
  readonly spoolSync: number;
  readonly reportDurable?: boolean;
}

/**
 * Records read ahead of delivery by default. 20,000 small records fill the producer's next
 * requests; reading further ahead only keeps more records alive through garbage collections, which
 * cost 12 % more CPU per line at 100,000 (BENCHMARKS.md, Forwarders).
 */
const DEFAULT_MAX_OUTSTANDING = 20_000;
/** Bytes of records accepted and not yet settled; with maxOutstandingRecords, the memory bound of `kpl send`. */
const MAX_OUTSTANDING_BYTES = 64 * 1024 * 1024;
/** Bytes read from a file at a time: a sixteenth of the syscalls and stream callbacks of the default 64 KiB. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Problems printed one by one before `kpl send` only counts them. */
const PROBLEMS_SHOWN = 5;

/** `kpl send`: forwards newline-delimited records from stdin or files to a stream. */
export function sendCommand(io: CliIo, setExitCode: (code: number) => void): Command {
  const command = new Command('send')
    .description('send newline-delimited records from stdin or files to a stream, one record a line')
    .argument('[file...]', 'files to read in turn; stdin when none')
    .requiredOption('--stream <name>', 'the stream to write to', streamName)
    .option('--endpoint <url>', 'Kinesis endpoint, e.g. a local one; default: AWS in the region', endpointUrl)
    .option('--region <region>', 'AWS region; default: AWS_REGION from the environment');
  return addRecordFlags(command)
    .option('--linger <ms>', 'producer recordMaxBufferedTime', wholeNumber(1, 600_000), 100)
    .option(
      '--max-outstanding <records>',
      'records held in memory at most before reading pauses',
      wholeNumber(1, 10_000_000),
      DEFAULT_MAX_OUTSTANDING,
    )
    .option(
      '--spool <dir>',
      'spool records on disk in DIR before sending: safe across outages, crashes and restarts; run again with the same DIR to deliver what waits there',
    )
    .option('--spool-sync <ms>', 'with --spool: most time between two fsyncs of the spool (0: back to back)', wholeNumber(0, 60_000), 100)
    .option('--report-durable', 'with --spool: print "durable N" on stdout whenever the first N lines read are safe on disk')
    .addHelpText(
      'after',
      `
Without --key-field or --key each record gets a random partition key. Empty lines are skipped.
A line that does not parse in its --format, or lacks its --key-field, is sent as it is (with a
random key) unless --unparsed skip; either way it is counted and the first few are printed, and
it does not change the exit code. Credentials come from the usual AWS environment (variables,
profile, instance role); against a local endpoint (127.0.0.1 or localhost) without any, dummy ones
are used. It flushes at the end of the input and on Ctrl-C or SIGTERM (a second one stops waiting
for records in flight), prints its counts on stderr, and exits 1 if any record failed or was
abandoned.

With --spool DIR every line is on disk before more is read (reading pauses while the spool is full),
and a stop signal stops at once: what is not yet delivered stays in DIR. Run again with the same DIR
(and no input, e.g. < /dev/null) to deliver what waits there; it exits 0 once the spool is empty.

Examples:
  $ tail -F /var/log/telemetry.ndjson | kpl send --stream telemetry --key-field deviceId
  $ kpl send --stream events --region eu-west-1 events-1.ndjson events-2.ndjson
  $ kpl send --stream web --format apache --key-field host /var/log/httpd/access_log
  $ kpl send --stream orders --format csv --fields id,customer,total --skip-header-lines 1 orders.csv
  $ kpl send --stream app --multiline-start '^\\d{4}-\\d{2}-\\d{2} ' app.log
  $ kpl send --endpoint http://127.0.0.1:4567 --stream kpl-local --key k1 < lines.txt
  $ tail -F /var/log/telemetry.ndjson | kpl send --stream telemetry --spool /var/spool/kpl`,
    )
    .action(async (files: string[], options: SendOptions, self: Command) => {
      let recordOptions: LineRecordOptions;
      try {
        recordOptions = recordOptionsFrom(options);
      } catch (error) {
        self.error(`error: ${error instanceof Error ? error.message : String(error)}`, { exitCode: USAGE_EXIT_CODE });
      }
      setExitCode(await send(files, options, recordOptions, io));
    });
}

async function send(files: readonly string[], options: SendOptions, recordOptions: LineRecordOptions, io: CliIo): Promise<number> {
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
    return sendSpooled(
      files,
      {
        producer: config,
        directory: options.spool,
        syncIntervalMs: options.spoolSync,
        reportDurable: options.reportDurable === true,
        records: recordOptions,
        readChunkBytes: READ_CHUNK_BYTES,
      },
      io,
    );
  }
  const producer = new KinesisProducer(config);
  const failures = new CodeCounts();
  const unparsed = new CodeCounts();
  let problemsShown = 0;
  const show = (message: string): void => {
    if (problemsShown++ < PROBLEMS_SHOWN) io.stderr.write(`kpl send: ${message}\n`);
  };
  const sink = new DeliverySink(producer, { maxRecords: options.maxOutstanding, maxBytes: MAX_OUTSTANDING_BYTES }, (error) => {
    failures.add(codeOf(error));
    show(error instanceof Error ? error.message : String(error));
  });
  const stop = new AbortController();
  // A second signal gives up waiting for the records in flight; they are counted as not delivered.
  const giveUp = new AbortController();
  const stopListening = io.onStopSignal((signal) => {
    if (stop.signal.aborted) {
      io.stderr.write(
        `kpl send: ${signal} again: not waiting for ${producer.outstandingRecords.toLocaleString('en-US')} records in flight\n`,
      );
      giveUp.abort();
      return;
    }
    io.stderr.write(`kpl send: ${signal}: sending what was read, then stopping (again to give up)\n`);
    stop.abort();
  });
  let lines = 0;
  const inputOptions: InputOptions = {
    records: recordOptions,
    readChunkBytes: READ_CHUNK_BYTES,
    onUnparsed: (code, message) => {
      unparsed.add(code);
      show(message);
    },
    onLinesRead: (read) => (lines += read),
  };
  let readFailed = false;
  try {
    await forwardInputs(files, io.stdin, inputOptions, sink, stop.signal);
  } catch (error) {
    io.stderr.write(`kpl send: ${error instanceof Error ? error.message : String(error)}\n`);
    readFailed = true;
  } finally {
    await Promise.race([producer.close(), once(giveUp.signal, 'abort')]);
    stopListening();
  }
  const abandoned = producer.outstandingRecords;
  const byCode = failures.toString();
  const skipped = recordOptions.unparsed === 'skip';
  io.stderr.write(
    `kpl send: ${lines.toLocaleString('en-US')} lines read, ${sink.delivered.toLocaleString('en-US')} records delivered, ` +
      `${failures.total.toLocaleString('en-US')} failed${byCode === '' ? '' : ` (${byCode})`}` +
      `${abandoned > 0 ? `, ${abandoned.toLocaleString('en-US')} abandoned in flight` : ''}` +
      `${unparsedSummary(unparsed, skipped)}\n`,
  );
  return readFailed || failures.total > 0 || abandoned > 0 ? 1 : 0;
}

function codeOf(error: unknown): string {
  if (error instanceof UserRecordFailedError) return error.attempts[error.attempts.length - 1]?.errorCode ?? error.code;
  if (error instanceof KplError) return error.code;
  return error instanceof Error ? error.name : 'Unknown';
}
