import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { decodeCbor, encodeCbor } from './cbor.js';

/** Content type of the AWS JSON 1.1 protocol, which the AWS SDK for JavaScript v3 speaks. */
export const AMZ_JSON = 'application/x-amz-json-1.1';
/** Content type of the CBOR flavour, which the AWS SDK for Java (and so the KPL and KCL) speaks. */
export const AMZ_CBOR = 'application/x-amz-cbor-1.1';

/** Encoding of a request body and of its answer, by content type. */
export interface BodyCodec {
  readonly contentType: string;
  decode(body: Buffer): unknown;
  encode(value: unknown): Buffer;
}

const JSON_CODEC: BodyCodec = {
  contentType: AMZ_JSON,
  decode: (body) => JSON.parse(body.toString('utf8')) as unknown,
  encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
};

const CBOR_CODEC: BodyCodec = {
  contentType: AMZ_CBOR,
  decode: decodeCbor,
  encode: encodeCbor,
};

/** The codec for the request's content type, JSON unless the client asked for CBOR. */
export function codecFor(headers: IncomingHttpHeaders): BodyCodec {
  return (headers['content-type'] ?? '').startsWith(AMZ_CBOR) ? CBOR_CODEC : JSON_CODEC;
}

/** The operation named by `X-Amz-Target: Kinesis_20131202.<Operation>`, or '' if there is none. */
export function operationOf(headers: IncomingHttpHeaders): string {
  const target = headers['x-amz-target'];
  if (typeof target !== 'string') return '';
  const dot = target.indexOf('.');
  return dot === -1 ? '' : target.slice(dot + 1);
}

/** Answers with a body in the client's encoding. */
export function sendBody(response: ServerResponse, status: number, codec: BodyCodec, value: unknown): void {
  const body = codec.encode(value);
  response.writeHead(status, { 'content-type': codec.contentType, 'content-length': body.length });
  response.end(body);
}

/**
 * Answers with an AWS error: the SDK takes the code from `__type` (and `x-amzn-ErrorType`) and
 * the message from `message`.
 */
export function sendError(response: ServerResponse, status: number, codec: BodyCodec, code: string, message: string): void {
  const body = codec.encode({ __type: code, message });
  response.writeHead(status, {
    'content-type': codec.contentType,
    'content-length': body.length,
    'x-amzn-errortype': code,
  });
  response.end(body);
}

/**
 * Reads a whole request or response body into one Buffer, sized from content-length when given.
 * Rejects if it exceeds `maxBytes`.
 */
export function readBody(message: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(message.headers['content-length']);
    const fixed = Number.isSafeInteger(declared) && declared >= 0 && declared <= maxBytes ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let length = 0;
    let tooLarge = false;
    message.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      if (length + chunk.length > (fixed?.length ?? maxBytes)) {
        tooLarge = true;
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      if (fixed !== undefined) chunk.copy(fixed, length);
      else chunks.push(chunk);
      length += chunk.length;
    });
    message.on('end', () => {
      if (tooLarge) return;
      if (fixed !== undefined) resolve(length === fixed.length ? fixed : fixed.subarray(0, length));
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length));
    });
    message.on('error', reject);
    message.on('close', () => {
      if (!message.complete) reject(new Error('the body was cut off'));
    });
  });
}

/** A body longer than the reader accepts. */
export class BodyTooLargeError extends RangeError {
  constructor(readonly maxBytes: number) {
    super(`the body is over ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}
