import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a {@link ScriptedKinesis} does with a PutRecords request. */
export type PutRecordsScript =
  /** Reads the request and never answers it; the connection stays open until the client gives up. */
  | 'hang'
  /** Answers 200 with every record failed on its own with InternalFailure. */
  | 'fail-every-record'
  /**
   * Answers 403 AccessDeniedException whose message quotes the request's headers, signature and
   * session token included, as a misconfigured proxy's error page might.
   */
  | 'deny-quoting-headers';

/** A running {@link startScriptedKinesis} server. */
export interface ScriptedKinesis {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** HTTP requests received so far, every operation. */
  readonly requests: number;
  /** PutRecords requests received so far. */
  readonly putRecordsRequests: number;
  /** Connections open now. */
  readonly openConnections: number;
  /** Changes what PutRecords does from now on; requests left hanging are answered as `script` says. */
  setScript(script: PutRecordsScript): void;
  /** Resolves once no connection is open (the client closed them all), or rejects after `timeoutMs`. */
  idle(timeoutMs?: number): Promise<void>;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** `count` open shards splitting the hash key range evenly, as ListShards lists them. */
function listedShards(count: number): unknown[] {
  const width = 2n ** 128n / BigInt(count);
  return Array.from({ length: count }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, '0')}`,
    HashKeyRange: {
      StartingHashKey: (width * BigInt(i)).toString(),
      EndingHashKey: (i === count - 1 ? 2n ** 128n - 1n : width * BigInt(i + 1) - 1n).toString(),
    },
    SequenceNumberRange: { StartingSequenceNumber: '1' },
  }));
}

/**
 * A node:http server on 127.0.0.1 that speaks just enough Kinesis (AWS JSON 1.1) for a producer
 * to run against it: ListShards lists `options.shards` open shards (default 1) splitting the hash
 * key range evenly, and PutRecords does what `script` says. Request bodies are read and dropped, so a hanging request costs the
 * server nothing, which keeps memory measurements about the client. For faults in front of a
 * real store, use LocalKinesis.
 */
export async function startScriptedKinesis(
  streamName: string,
  initialScript: PutRecordsScript,
  options: { readonly shards?: number } = {},
): Promise<ScriptedKinesis> {
  let script = initialScript;
  const shards = listedShards(options.shards ?? 1);
  const sockets = new Set<Socket>();
  const hanging = new Set<{ request: http.IncomingMessage; response: http.ServerResponse }>();
  let requests = 0;
  let putRecordsRequests = 0;
  let idleWaiters: Array<() => void> = [];
  const server = http.createServer((request, response) => {
    requests++;
    const target = String(request.headers['x-amz-target'] ?? '')
      .split('.')
      .pop();
    // Only a failing PutRecords needs its body (to answer each record); a hanging one is dropped unread.
    const keep = target !== 'PutRecords' || script === 'fail-every-record';
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      if (keep) chunks.push(chunk);
    });
    request.on('end', () => {
      if (target === 'ListShards') {
        answer(response, 200, { Shards: shards });
      } else if (target === 'PutRecords') {
        putRecordsRequests++;
        putRecords(request, response, chunks);
      } else {
        answer(response, 400, {
          __type: 'UnknownOperationException',
          message: `${target ?? 'no operation'} is not scripted for ${streamName}`,
        });
      }
    });
  });
  function putRecords(request: http.IncomingMessage, response: http.ServerResponse, chunks: readonly Buffer[]): void {
    switch (script) {
      case 'hang': {
        const entry = { request, response };
        hanging.add(entry);
        response.once('close', () => hanging.delete(entry));
        return;
      }
      case 'deny-quoting-headers': {
        const lines = Object.entries(request.headers).map(([name, value]) => `${name}: ${String(value)}`);
        answer(response, 403, {
          __type: 'AccessDeniedException',
          message: `denied; request headers were ${JSON.stringify(request.headers)}\n${lines.join('\n')}`,
        });
        return;
      }
      case 'fail-every-record': {
        const { Records } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Records: unknown[] };
        answer(response, 200, {
          FailedRecordCount: Records.length,
          Records: Records.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' })),
        });
      }
    }
  }
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const wake of waiters) wake();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    get putRecordsRequests() {
      return putRecordsRequests;
    },
    setScript(next: PutRecordsScript) {
      // A hanging request's body was not kept, so it cannot be answered record by record.
      if (next === 'fail-every-record' && hanging.size > 0) throw new Error('hanging requests cannot be answered with fail-every-record');
      script = next;
      if (script !== 'hang') for (const { request, response } of [...hanging]) putRecords(request, response, []);
    },
    get openConnections() {
      return sockets.size;
    },
    idle(timeoutMs = 5000) {
      if (sockets.size === 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${sockets.size} connection(s) still open after ${timeoutMs} ms`)), timeoutMs);
        idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
