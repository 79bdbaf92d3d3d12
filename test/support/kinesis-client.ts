import http from 'node:http';
import https from 'node:https';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Options of {@link createKinesisClient}. */
export interface TestClientOptions {
  /** SDK attempts per call; 1 turns the SDK's retries off so that a test sees every fault. @default 1 */
  readonly maxAttempts?: number;
  /** Milliseconds before a request is abandoned; 0 waits forever. @default 10000 */
  readonly requestTimeoutMs?: number;
}

/**
 * A real SDK client for a local Kinesis: HTTP/1.1 with a keep-alive agent (kinesalite cannot
 * speak the SDK's default HTTP/2), region us-east-1, dummy credentials. Call `client.destroy()`
 * when done, which also closes its sockets.
 */
export function createKinesisClient(endpoint: string, options: TestClientOptions = {}): KinesisClient {
  return new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: options.maxAttempts ?? 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true }),
      // kinesis-local's TLS port serves a self-signed certificate.
      httpsAgent: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      // Without this the handler only logs a warning when the timeout passes.
      throwOnRequestTimeout: true,
    }),
  });
}
