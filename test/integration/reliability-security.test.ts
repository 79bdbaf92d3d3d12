import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it } from 'vitest';
import { KinesisProducer, UserRecordFailedError, ValidationError, type Logger } from '../../src/index.js';
import type { ProducerConfig } from '../../src/config.js';
import { createKinesisClient as createProducerClient } from '../../src/pipeline/kinesis-client.js';
import { LocalKinesis } from '../../src/testing/index.js';
import { startKinesisLocal } from '../support/kinesis-local.js';
import { type ScriptedKinesis, startScriptedKinesis } from '../support/scripted-kinesis.js';

/** Credentials shaped like real ones, so that a pattern that would catch real ones is exercised. */
const CREDENTIALS = {
  accessKeyId: 'AKIAQ3EGRIEXAMPLE7Q2',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN/0123456789+abcdefABCDEF==',
};
const SECRETS = [CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken];

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A logger keeping every line, details included, as text. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string, details?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(details ?? {})}`);
  };
  return { logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') }, lines };
}

/** Everything an error shows: message, stack, own fields (attempts with their messages) and cause. */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return [error.message, error.stack ?? '', JSON.stringify(error), errorText(error.cause ?? '')].join('\n');
}

function expectNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${where} shows ${secret.slice(0, 8)}...`).toBe(false);
}

function producerFor(endpoint: string, config: Partial<ProducerConfig>): KinesisProducer {
  const producer = new KinesisProducer({ streamName: 'secure', endpoint, credentials: CREDENTIALS, ...config });
  stops.push(() => producer.close());
  return producer;
}

describe('reliability: security', () => {
  it('never shows credentials in logs, errors or metric labels, through throttling, faults and failures', async () => {
    const kinesis = await LocalKinesis.start({
      streams: [{ name: 'secure', shards: 2 }],
      limits: { bytesPerSecond: 64 * 1024 },
      faults: { recordFailureRate: 0.1, internalFailureRate: 0.1, serviceUnavailableRate: 0.1 },
      seed: 6,
    });
    stops.push(() => kinesis.close());
    // A proxy that quotes the signed request back in its error: the SigV4 Authorization header
    // holds the access key id, and X-Amz-Security-Token the session token.
    const quoting = await startScriptedKinesis('secure', 'deny-quoting-headers');
    stops.push(() => quoting.close());
    const { logger, lines } = capturingLogger();

    const producer = producerFor(kinesis.endpoint, { logger, recordTtl: 3000, retry: { minDelayMs: 10, maxDelayMs: 100 } });
    const deliveries = Array.from({ length: 2000 }, (_, i) => producer.add({ partitionKey: `k${i % 50}`, data: new Uint8Array(200) }));
    const missingStream = producer.add({ partitionKey: 'k', data: 'x', streamName: 'no-such-stream' });
    const outcomes = await Promise.allSettled([...deliveries, missingStream]);
    await producer.flush();
    const denied = producerFor(quoting.endpoint, { logger });
    const deniedOutcome = await denied.add({ partitionKey: 'k', data: 'x' }).catch((error: unknown) => error);

    const errors = [...outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : [])), deniedOutcome];
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(deniedOutcome).toBeInstanceOf(UserRecordFailedError);
    expect((deniedOutcome as UserRecordFailedError).attempts.at(-1)?.errorCode).toBe('AccessDeniedException');
    // The quoting proxy's message reached the error, only without the credentials.
    expect((deniedOutcome as UserRecordFailedError).attempts.at(-1)?.errorMessage).toMatch(/request headers were/);
    for (const error of errors) expectNoSecret(errorText(error), 'an error');
    const succeeded = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    expect(succeeded).toBeGreaterThan(0);
    expect(lines.length).toBeGreaterThan(0);
    expectNoSecret(lines.join('\n'), 'the log');

    const metrics = await producer.metrics.metrics();
    console.log(
      `security: ${succeeded} delivered, ${errors.length} errors checked, ${lines.length} log lines, metrics text ${metrics.length} characters`,
    );
    expect(metrics).toMatch(/kpl_user_records_put_total/);
    expect(metrics).toMatch(/error_code="(InternalFailure|ServiceUnavailable|ProvisionedThroughputExceededException)"/);
    expectNoSecret(metrics, 'the metrics');
  });

  it('refuses an endpoint carrying user:password with a ValidationError that does not repeat the password', () => {
    for (const endpoint of ['http://user:s3cr3t-pass@127.0.0.1:4567', 'https://AKIAQ3EGRIEXAMPLE7Q2:s3cr3t-pass@kinesis.example.com']) {
      let error: unknown;
      try {
        producerFor(endpoint, {});
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('endpoint');
      const text = errorText(error);
      expect(text).not.toContain('s3cr3t-pass');
      expectNoSecret(text, 'the ValidationError');
    }
  });

  it('verifies TLS certificates by default: a self-signed endpoint fails rather than connects', async () => {
    const server = await startKinesisLocal({ initializeStreams: 'secure:1' });
    stops.push(() => server.stop());
    const producer = producerFor(server.tlsEndpoint, { recordTtl: 5000 });
    const error = await producer.add({ partitionKey: 'k', data: 'x' }).catch((thrown: unknown) => thrown);
    console.log(`TLS: a self-signed endpoint gives ${errorText(error).split('\n')[0]}`);
    expect(error).toBeInstanceOf(UserRecordFailedError);
    // The certificate's error, at once, rather than 'Expired' once recordTtl has passed.
    expect((error as UserRecordFailedError).attempts.at(-1)?.errorCode).toMatch(/SELF_SIGNED|CERT/);
  });

  it('uses plain HTTP only for an endpoint that says http://', async () => {
    // No scheme is not taken as http.
    expect(() => producerFor('127.0.0.1:4567', {})).toThrow(ValidationError);

    // https:// to a plain HTTP server: the producer speaks TLS, so no request ever arrives.
    const plain: ScriptedKinesis = await startScriptedKinesis('secure', 'hang');
    stops.push(() => plain.close());
    const producer = producerFor(plain.endpoint.replace('http://', 'https://'), { recordTtl: 1000 });
    await expect(producer.add({ partitionKey: 'k', data: 'x' })).rejects.toBeInstanceOf(UserRecordFailedError);
    expect(plain.requests).toBe(0);

    // No endpoint: the SDK's regional endpoint, over https.
    const client = createProducerClient({
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      maxConnections: 1,
      requestTimeout: 1000,
      http2: false,
    });
    const seen: string[] = [];
    client.middlewareStack.add(
      () => (args) => {
        const request = args.request as { protocol?: string; hostname?: string };
        seen.push(`${request.protocol ?? ''}//${request.hostname ?? ''}`);
        return Promise.reject(new Error('stopped before sending'));
      },
      { step: 'finalizeRequest', name: 'stopBeforeSending' },
    );
    await expect(client.send(new ListShardsCommand({ StreamName: 'secure' }))).rejects.toThrow('stopped before sending');
    client.destroy();
    expect(seen).toEqual(['https://kinesis.eu-west-1.amazonaws.com']);
  });
});
