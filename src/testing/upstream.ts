import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { AMZ_JSON, readBody } from './wire.js';

const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
// kinesalite checks that a request is signed, not the signature: any well-formed header will do.
const INTERNAL_AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length', 'expect']);

/** An answer from kinesalite, read whole. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The connection to the kinesalite behind the proxy, over a keep-alive agent. */
export class Upstream {
  readonly #port: number;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  #inFlight = 0;
  #closed = false;
  #onIdle: Array<() => void> = [];

  constructor(port: number) {
    this.#port = port;
  }

  /** Sends a request with the client's headers (less hop-by-hop ones) and `body`; the answer streams. */
  forward(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<IncomingMessage> {
    if (this.#closed) return Promise.reject(new Error('the local Kinesis is closed'));
    const outgoing: http.OutgoingHttpHeaders = { 'content-length': body.length };
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) outgoing[name] = value;
    }
    this.#inFlight++;
    let done = false;
    const settle = (): void => {
      if (done) return;
      done = true;
      this.#settled();
    };
    return new Promise((resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port: this.#port, method, path, headers: outgoing, agent: this.#agent },
        (answer) => {
          answer.once('close', settle);
          resolve(answer);
        },
      );
      request.on('error', (error) => {
        settle();
        reject(error);
      });
      request.end(body);
    });
  }

  /** {@link forward}, with the answer read whole. */
  async exchange(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<UpstreamAnswer> {
    const answer = await this.forward(method, path, headers, body);
    return { status: answer.statusCode ?? 500, headers: answer.headers, body: await readBody(answer, MAX_ANSWER_BYTES) };
  }

  /** Calls an operation for the proxy's own needs, in JSON. */
  call(operation: string, params: object): Promise<UpstreamAnswer> {
    return this.callWithBody(operation, Buffer.from(JSON.stringify(params), 'utf8'));
  }

  /** {@link call} with the JSON already serialised. */
  callWithBody(operation: string, json: Buffer): Promise<UpstreamAnswer> {
    return this.exchange(
      'POST',
      '/',
      {
        'content-type': AMZ_JSON,
        'x-amz-target': `Kinesis_20131202.${operation}`,
        'x-amz-date': '20200101T000000Z',
        authorization: INTERNAL_AUTHORIZATION,
      },
      json,
    );
  }

  /**
   * Resolves when no request is in flight, or after `timeoutMs`. kinesalite throws from its
   * callbacks when its store closes under a request, so it must be idle before it closes.
   */
  idle(timeoutMs: number): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#onIdle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#closed = true;
    this.#agent.destroy();
  }

  #settled(): void {
    if (--this.#inFlight > 0) return;
    const waiters = this.#onIdle;
    this.#onIdle = [];
    for (const wake of waiters) wake();
  }
}
