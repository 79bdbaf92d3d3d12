import { EventEmitter } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';

/** A CliIo for running `kpl` in the test's process: captured stdout and stderr, a stdin, and a stop signal to send. */
export interface TestIo {
  readonly io: CliIo;
  // Function-valued properties, not methods: tests destructure them from testIo().
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Delivers SIGTERM to the command, as the process's handler would. */
  readonly stop: () => void;
}

/** `stdin` is a string, or a stream the test writes to. */
export function testIo(stdin: string | NodeJS.ReadableStream = ''): TestIo {
  let out = '';
  let err = '';
  const stdout = new PassThrough().setEncoding('utf8');
  const stderr = new PassThrough().setEncoding('utf8');
  stdout.on('data', (text: string) => (out += text));
  stderr.on('data', (text: string) => (err += text));
  const signals = new EventEmitter();
  return {
    io: {
      stdin: typeof stdin === 'string' ? Readable.from([stdin]) : stdin,
      stdout,
      stderr,
      stderrIsTTY: false,
      env: {},
      onStopSignal(handler) {
        signals.on('stop', handler);
        return () => signals.off('stop', handler);
      },
    },
    stdout: () => out,
    stderr: () => err,
    stop: () => signals.emit('stop', 'SIGTERM'),
  };
}
