import type http from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WriteAnswer } from './put-records.js';
import { type BodyCodec, sendBody, sendError } from './wire.js';

/** Where a client on this machine reaches a server listening on `address`. */
export function endpointHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/** Listens on `port` of `host`; rejects with the listen error (e.g. EADDRINUSE). */
export function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Sends an answer: an error answer (a `__type` and a status other than 200) as the codec's error, else the body. */
export function sendAnswer(response: ServerResponse, codec: BodyCodec, answer: WriteAnswer): void {
  const type = (answer.body as { __type?: unknown }).__type;
  if (answer.status !== 200 && typeof type === 'string') {
    const message = (answer.body as { message?: unknown }).message;
    sendError(response, answer.status, codec, type, typeof message === 'string' ? message : '');
  } else {
    sendBody(response, answer.status, codec, answer.body);
  }
}

/** Answers a request whose handling threw with InternalFailure naming the error, or drops it if the answer had begun. */
export function sendInternalFailure(response: ServerResponse, error: unknown): void {
  if (response.headersSent || response.destroyed) {
    response.destroy();
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  response.writeHead(500, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'InternalFailure' });
  response.end(JSON.stringify({ __type: 'InternalFailure', message: `LocalKinesis: ${message}` }));
}

/** The error of an operation that kinesalite refused, with its error type and message. */
export function upstreamError(operation: string, streamName: string, body: Buffer): Error {
  let detail = body.toString('utf8');
  try {
    const { __type, message } = JSON.parse(detail) as { __type?: string; message?: string };
    detail = `${__type ?? 'error'}: ${message ?? ''}`;
  } catch {
    // not JSON: keep the raw text
  }
  return new Error(`${operation} of stream ${streamName} failed: ${detail}`);
}

interface Sleep {
  readonly timer: NodeJS.Timeout;
  readonly wake: () => void;
}

/** Delays that close() can end at once: injected latency, an outage's length, polls for ACTIVE. */
export class Sleeps {
  readonly #sleeps = new Set<Sleep>();

  /** Resolves after `ms`, or at {@link wakeAll}. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleep: Sleep = {
        timer: setTimeout(() => {
          this.#sleeps.delete(sleep);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.#sleeps.add(sleep);
    });
  }

  /** Ends every pending delay now. */
  wakeAll(): void {
    for (const sleep of this.#sleeps) {
      clearTimeout(sleep.timer);
      sleep.wake();
    }
    this.#sleeps.clear();
  }
}
