#!/usr/bin/env node
import { processIo } from './io.js';
import { runCli } from './program.js';

const exitCode = await runCli(process.argv.slice(2), processIo());
// Exit explicitly: a keep-alive socket or the IPC channel of `kpl local` must not hold the process
// open. Pipes are asynchronous on some platforms, so first let stdout and stderr drain.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
process.exit(exitCode);
