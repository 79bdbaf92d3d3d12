#!/usr/bin/env node
import { processIo } from './io.js';
import { runCli } from './program.js';

// The SDK warns on every start under Node 20 that its releases from 2027 will need Node 22; this
// package pins its SDK version, and the README says so once, so the command's output stays readable.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const exitCode = await runCli(process.argv.slice(2), processIo());
// Exit explicitly: a keep-alive socket or the IPC channel of `kpl local` must not hold the process
// open. Pipes are asynchronous on some platforms, so first let stdout and stderr drain.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
process.exit(exitCode);
