// Preloaded (node -r) into kinesis-local, which always binds every interface and has no host
// setting. It forces each listening socket onto 127.0.0.1, exits if one ends up anywhere else,
// reports each bound port to the parent over IPC, and exits when the parent goes away so that a
// crashed test run leaves no server behind.
'use strict';
const net = require('node:net');

const LOOPBACK = '127.0.0.1';
const listen = net.Server.prototype.listen;

function refuse(reason) {
  process.stderr.write(`kinesis-local preload: ${reason}; only ${LOOPBACK} is allowed, exiting\n`);
  process.exit(70);
}

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const callback = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
  const first = args[0];
  let options;
  if (first !== null && typeof first === 'object') {
    if (first.path !== undefined || first.handle !== undefined || first.fd !== undefined || first._handle !== undefined) {
      refuse('listen() on a path, handle or file descriptor');
    }
    options = { ...first, host: LOOPBACK };
  } else if (first === undefined || typeof first === 'number' || /^\d+$/.test(String(first))) {
    options = { port: Number(first ?? 0), host: LOOPBACK };
  } else {
    refuse(`listen(${JSON.stringify(first)})`);
  }
  this.once('listening', () => {
    const address = this.address();
    if (address === null || typeof address === 'string' || address.address !== LOOPBACK) {
      refuse(`a server bound to ${JSON.stringify(address)}`);
    }
    process.send?.({ kind: 'listening', port: address.port });
  });
  return callback === undefined ? listen.call(this, options) : listen.call(this, options, callback);
};

process.on('disconnect', () => process.exit(0));
