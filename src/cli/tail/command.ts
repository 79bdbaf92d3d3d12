import { Command, Option } from 'commander';
import type { CliIo } from '../io.js';
import { LineRecordReader } from '../lines/line-record-reader.js';
import type { LineRecordOptions } from '../lines/line-record-options.js';
import { addRecordFlags, type RecordFlags, recordOptionsFrom } from '../lines/record-flags.js';
import { ValidationError } from '../../records.js';
import { endpointUrl, streamName, USAGE_EXIT_CODE, wholeNumber } from '../options.js';
import { loadFlows, TailConfigError } from './config-file.js';
import type { FlowSpec } from './flow.js';
import { runTail } from './run-tail.js';

interface TailOptions extends RecordFlags {
  readonly stream?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly from?: 'start' | 'end';
  readonly checkpoint?: string;
  readonly spool?: string;
  readonly config?: string;
  readonly metricsPort?: number;
}

/** Options that describe one flow: with --config, the file's flows say them instead. */
const FLOW_OPTIONS = [
  'stream',
  'from',
  'format',
  'fields',
  'keyField',
  'key',
  'multilineStart',
  'skipHeaderLines',
  'maxLineBytes',
  'truncatedTerminator',
  'longLines',
  'unparsed',
] as const;

/** `kpl tail`: follows log files through rotation and sends their lines to Kinesis, as the Kinesis Agent does. */
export function tailCommand(io: CliIo, setExitCode: (code: number) => void): Command {
  const command = new Command('tail')
    .description('follow files (through rotation) and send their lines to a stream, checkpointing what Kinesis stored')
    .argument('[pattern...]', 'glob patterns of the files to follow (quote them), e.g. "/var/log/app/*.log*"')
    .option('--stream <name>', 'the stream to write to (required unless --config)', streamName)
    .option('--endpoint <url>', 'Kinesis endpoint, e.g. a local one; default: AWS in the region', endpointUrl)
    .option('--region <region>', 'AWS region; default: AWS_REGION from the environment')
    .addOption(
      new Option('--from <position>', 'where files found at the first start are read from (default: end)').choices(['start', 'end']),
    )
    .option('--checkpoint <file>', "keep each file's place here, to resume after a stop or a crash")
    .option(
      '--spool <dir>',
      'a durable disk spool: lines are checkpointed once it holds them, and it delivers them through outages and restarts',
    );
  return addRecordFlags(command)
    .option('--config <file>', 'JSON file of flows, each with its patterns, stream, format, key and start position')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on 127.0.0.1 at this port', wholeNumber(0, 65_535))
    .addHelpText(
      'after',
      `
Files are followed through rotation by rename (logrotate's create) and by copytruncate: a file is
known by its inode and its first bytes, a renamed file is read to its end, and a truncated file is
read again from its start. Give a pattern that also matches the rotated names (app.log*) so that
lines written just before a rotation are read from the rotated file. Files that appear later, and
files that appeared while kpl tail was stopped, are read from their start. With --checkpoint, a
restart (after SIGTERM or a crash) resumes where Kinesis stored the last line: no line is lost,
and only lines in flight at a crash are sent again. SIGTERM or Ctrl-C sends what was read, writes
the checkpoint and exits 0. Progress goes to stderr every 30 s.

Examples:
  $ kpl tail --stream app-logs --checkpoint /var/lib/kpl/app.json "/var/log/app/app.log*"
  $ kpl tail --stream web --format apache --key-field host --from start "/var/log/httpd/access_log*"
  $ kpl tail --stream errors --multiline-start "^\\d{4}-\\d{2}-\\d{2}" "/var/log/app/*.log"
  $ kpl tail --config /etc/kpl/flows.json --checkpoint /var/lib/kpl/tail.json --metrics-port 9464`,
    )
    .action(async (patterns: string[], options: TailOptions, command: Command) => {
      const flows = await flowsOf(patterns, options, command);
      for (const flow of flows) {
        try {
          new LineRecordReader(flow.reader);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          command.error(`error: ${options.config === undefined ? '' : `flow "${flow.name}": `}${error.message}`, {
            exitCode: USAGE_EXIT_CODE,
          });
        }
      }
      setExitCode(
        await runTail(
          {
            flows,
            ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
            ...(options.region !== undefined ? { region: options.region } : {}),
            ...(options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {}),
            ...(options.spool !== undefined ? { spool: options.spool } : {}),
            ...(options.metricsPort !== undefined ? { metricsPort: options.metricsPort } : {}),
          },
          io,
        ),
      );
    });
}

async function flowsOf(patterns: readonly string[], options: TailOptions, command: Command): Promise<FlowSpec[]> {
  if (options.config !== undefined) {
    const flag = FLOW_OPTIONS.find((name) => command.getOptionValueSource(name) === 'cli');
    if (flag !== undefined) {
      const option = command.options.find((candidate) => candidate.attributeName() === flag);
      command.error(`error: ${option?.long ?? flag} describes a flow; with --config the file's flows say it`, {
        exitCode: USAGE_EXIT_CODE,
      });
    }
    if (patterns.length > 0) command.error("error: with --config the file's flows name the patterns", { exitCode: USAGE_EXIT_CODE });
    try {
      return await loadFlows(options.config);
    } catch (error) {
      if (error instanceof TailConfigError) command.error(`error: ${error.message}`, { exitCode: USAGE_EXIT_CODE });
      throw error;
    }
  }
  if (options.stream === undefined) command.error("error: required option '--stream <name>' not specified", { exitCode: USAGE_EXIT_CODE });
  if (patterns.length === 0)
    command.error('error: missing argument \'pattern\': give the files to follow, e.g. "/var/log/app.log*"', { exitCode: USAGE_EXIT_CODE });
  let reader: LineRecordOptions;
  try {
    reader = recordOptionsFrom(options);
  } catch (error) {
    command.error(`error: ${(error as Error).message}`, { exitCode: USAGE_EXIT_CODE });
  }

  return [{ name: 'default', patterns, stream: options.stream, reader, from: options.from ?? 'end' }];
}
