import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench/command.js';
import type { CliIo } from './io.js';
import { localCommand } from './local/command.js';
import { USAGE_EXIT_CODE } from './options.js';
import { sendCommand } from './send/command.js';
import { tailCommand } from './tail/command.js';

/** Commander's codes that end a run successfully (help asked for, version). */
const SUCCESS_CODES = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * Runs `kpl` with `argv` (the arguments after `kpl`) and resolves with the exit code: 0 done, 1 a
 * record failed or was lost (or a run failed), 2 a usage error, which is one line on stderr.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  const program = new Command('kpl')
    .description('kinesis-kpl: the Kinesis Producer Library for Node.js, from the command line')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander adds suggestions on a line of their own; a usage error must be one line.
      outputError: (text, write) => write(`kpl: ${text.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Examples:
  $ kpl bench                                       # throughput on an embedded local Kinesis (no AWS account)
  $ kpl bench --compare-plain                       # side by side with plain PutRecords
  $ kpl bench --sweep --out sweep.html              # choose recordMaxBufferedTime and aggregationMaxSize
  $ kpl send --stream telemetry --key-field deviceId < readings.ndjson
  $ kpl tail --stream logs "/var/log/app.log*"      # follow log files through rotation
  $ kpl local --port 4567 --shards 4                # a limits-enforcing Kinesis for your own tests

Run 'kpl help <command>' or 'kpl <command> --help' for a command's flags and examples.`,
    );
  program.addCommand(benchCommand(io, setExitCode));
  program.addCommand(sendCommand(io, setExitCode));
  program.addCommand(tailCommand(io, setExitCode));
  program.addCommand(localCommand(io, setExitCode));
  inheritSettings(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return SUCCESS_CODES.has(error.code) ? 0 : USAGE_EXIT_CODE;
    io.stderr.write(`kpl: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** Commands made apart and added with addCommand() do not inherit their parent's output and exit settings. */
function inheritSettings(program: Command): void {
  for (const command of program.commands) {
    command.copyInheritedSettings(program);
  }
}
