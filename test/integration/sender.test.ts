import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { KinesisRecord } from '../../src/format/aggregated-record.js';
import { createKinesisClient, type KinesisClientOptions } from '../../src/pipeline/kinesis-client.js';
import { Sender, type SendOutcome } from '../../src/pipeline/sender.js';
import {
  createKinesisClient as createAdminClient,
  createStream,
  listAllShards,
  readAllRecords,
  shardOwningHashKey,
  uniqueStreamName,
} from '../support/index.js';
import { useKinesisLocal } from '../support/kinesis-local.js';

const CLIENT_OPTIONS: KinesisClientOptions = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  maxConnections: 4,
  requestTimeout: 10_000,
  http2: false,
};
const SENDER_OPTIONS = { maxConnections: 4, requestTimeout: 10_000 };

const encoder = new TextEncoder();

function record(partitionKey: string, data: string, explicitHashKey?: string): KinesisRecord {
  return { partitionKey, explicitHashKey, data: encoder.encode(data) };
}

function hashKeyOf(r: KinesisRecord): bigint {
  if (r.explicitHashKey !== undefined) return BigInt(r.explicitHashKey);
  return BigInt(`0x${createHash('md5').update(r.partitionKey, 'utf8').digest('hex')}`);
}

interface TestServer {
  endpoint: string;
  /** Requests whose socket closed before the server answered them. */
  abandoned: () => number;
  close: () => Promise<void>;
}

/**
 * A node:http server on 127.0.0.1 that answers each request with `answer(body, headers)`, or
 * never answers when that returns undefined. A reply body is sent as JSON, or as it is when it is a Buffer.
 */
async function startScriptedServer(
  answer: (body: string, headers: http.IncomingHttpHeaders) => { status: number; body: unknown } | undefined,
): Promise<TestServer> {
  let abandoned = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reply = answer(Buffer.concat(chunks).toString('utf8'), request.headers);
      if (reply === undefined) {
        response.on('close', () => abandoned++);
        return;
      }
      response.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    abandoned: () => abandoned,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

describe('Sender on kinesalite', () => {
  const endpoint = inject('kinesaliteEndpoint');
  const admin = createAdminClient(endpoint);
  const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint });
  afterAll(() => {
    admin.destroy();
    client.destroy();
  });

  it('puts records and reports each one’s shard and sequence number, in input order', async () => {
    const streamName = uniqueStreamName('sender-put');
    await createStream(admin, streamName, 4);
    const records = [
      ...Array.from({ length: 40 }, (_, i) => record(`key-${i}-é中🚀`, `payload ${i}`)),
      record('explicit-low', 'to shard of key 0', '0'),
      record('explicit-high', 'to shard of the top key', '340282366920938463463374607431768211455'),
      record('explicit-mid', 'to shard of 2^127', (1n << 127n).toString()),
    ];
    const sender = new Sender(client, { streamName }, SENDER_OPTIONS);
    const outcome = await sender.send(records);
    expect(sender.inFlight).toBe(0);
    expect(outcome.kind).toBe('sent');
    if (outcome.kind !== 'sent') return;
    expect(outcome.records).toHaveLength(records.length);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);

    const shards = await listAllShards(admin, streamName);
    const stored = new Map((await readAllRecords(admin, streamName)).map((r) => [r.sequenceNumber, r]));
    outcome.records.forEach((result, i) => {
      const sent = records[i]!;
      expect(result.errorCode).toBeUndefined();
      if (result.errorCode !== undefined) return;
      expect(result.shardId).toBe(shardOwningHashKey(shards, hashKeyOf(sent))?.ShardId);
      const found = stored.get(result.sequenceNumber);
      expect(found?.shardId).toBe(result.shardId);
      expect(found?.partitionKey).toBe(sent.partitionKey);
      expect(found?.data).toEqual(sent.data);
    });
  });

  it('fails the whole request with ResourceNotFoundException for a stream that does not exist', async () => {
    const sender = new Sender(client, { streamName: uniqueStreamName('sender-missing') }, SENDER_OPTIONS);
    const outcome = await sender.send([record('k', 'v')]);
    expect(outcome).toMatchObject({ kind: 'failed', errorCode: 'ResourceNotFoundException' });
  });
});

describe('Sender against scripted servers', () => {
  it('maps per-record failures and successes of a partly failed request, in order', async () => {
    const server = await startScriptedServer(() => ({
      status: 200,
      body: {
        FailedRecordCount: 2,
        Records: [
          { ShardId: 'shardId-000000000001', SequenceNumber: '49590338271490256608559692538361571095921575989136588898' },
          { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000001' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' },
        ],
      },
    }));
    const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: server.endpoint });
    try {
      const outcome = await new Sender(client, { streamName: 's' }, SENDER_OPTIONS).send([
        record('a', '1'),
        record('b', '2'),
        record('c', '3'),
      ]);
      expect(outcome).toMatchObject({
        kind: 'sent',
        records: [
          { shardId: 'shardId-000000000001', sequenceNumber: '49590338271490256608559692538361571095921575989136588898' },
          { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'Rate exceeded for shard shardId-000000000001' },
          { errorCode: 'InternalFailure', errorMessage: 'Internal service failure.' },
        ],
      });
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('fails the records a response has no result for, and results that are neither a success nor an error', async () => {
    const server = await startScriptedServer(() => ({
      status: 200,
      body: { FailedRecordCount: 0, Records: [{ ShardId: 'shardId-000000000001' }] },
    }));
    const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: server.endpoint });
    try {
      const outcome = await new Sender(client, { streamName: 's' }, SENDER_OPTIONS).send([record('a', '1'), record('b', '2')]);
      expect(outcome).toMatchObject({
        kind: 'sent',
        records: [
          { errorCode: 'InternalFailure', errorMessage: expect.stringContaining('neither an error nor a shard') },
          { errorCode: 'InternalFailure', errorMessage: expect.stringContaining('fewer results than records sent') },
        ],
      });
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('fails the whole request when a 200 response is not PutRecords JSON, as the SDK reports it', async () => {
    const server = await startScriptedServer(() => ({ status: 200, body: Buffer.from('<html>gateway says hello</html>') }));
    const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: server.endpoint });
    try {
      const outcome = await new Sender(client, { streamName: 's' }, SENDER_OPTIONS).send([record('a', '1')]);
      expect(outcome).toMatchObject({ kind: 'failed' });
      expect(outcome.kind === 'failed' && outcome.errorMessage).toMatch(/Deserialization error|Unexpected token/);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it.each([
    [400, 'ProvisionedThroughputExceededException'],
    [400, 'AccessDeniedException'],
    [400, 'KMSAccessDeniedException'],
    [500, 'InternalFailure'],
    [503, 'ServiceUnavailable'],
  ])('fails the whole request on HTTP %i %s with that code', async (status, code) => {
    const server = await startScriptedServer(() => ({ status, body: { __type: code, message: `scripted ${code}` } }));
    const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: server.endpoint });
    try {
      const outcome = await new Sender(client, { streamName: 's' }, SENDER_OPTIONS).send([record('a', '1')]);
      expect(outcome).toMatchObject({ kind: 'failed', errorCode: code, errorMessage: `scripted ${code}` });
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('keeps credentials out of error messages even when a server echoes the request back', async () => {
    const server = await startScriptedServer((_body, headers) => ({
      status: 400,
      body: { __type: 'UnrecognizedClientException', message: `cannot verify ${headers.authorization}` },
    }));
    const client = createKinesisClient({
      ...CLIENT_OPTIONS,
      endpoint: server.endpoint,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    });
    try {
      const outcome = await new Sender(client, { streamName: 's' }, SENDER_OPTIONS).send([record('a', '1')]);
      expect(outcome.kind).toBe('failed');
      if (outcome.kind !== 'failed') return;
      expect(outcome.errorCode).toBe('UnrecognizedClientException');
      expect(outcome.errorMessage).toContain('cannot verify');
      expect(outcome.errorMessage).not.toContain('AKIAIOSFODNN7EXAMPLE');
      expect(outcome.errorMessage).not.toMatch(/Signature=[0-9a-f]/);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('aborts a request at the sender’s requestTimeout, closing its connection', async () => {
    const server = await startScriptedServer(() => undefined);
    // The handler would wait a minute: only the sender's own timer can end this request.
    const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: server.endpoint, requestTimeout: 60_000 });
    try {
      const sender = new Sender(client, { streamName: 's' }, { maxConnections: 4, requestTimeout: 200 });
      const outcome = await sender.send([record('a', '1')]);
      expect(outcome).toMatchObject({ kind: 'failed', errorCode: 'RequestTimeout' });
      await until(() => server.abandoned() === 1);
      expect(sender.inFlight).toBe(0);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('aborts a request at the handler’s requestTimeout, closing its connection', async () => {
    const server = await startScriptedServer(() => undefined);
    const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: server.endpoint, requestTimeout: 200 });
    try {
      const outcome = await new Sender(client, { streamName: 's' }, { maxConnections: 4, requestTimeout: 60_000 }).send([record('a', '1')]);
      expect(outcome).toMatchObject({ kind: 'failed', errorCode: 'RequestTimeout' });
      await until(() => server.abandoned() === 1);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('reports ECONNREFUSED when nothing listens', async () => {
    const server = await startScriptedServer(() => undefined);
    const endpoint = server.endpoint;
    await server.close();
    const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint });
    try {
      const outcome = await new Sender(client, { streamName: 's' }, SENDER_OPTIONS).send([record('a', '1')]);
      expect(outcome).toMatchObject({ kind: 'failed', errorCode: 'ECONNREFUSED' });
    } finally {
      client.destroy();
    }
  });

  it('counts requests in flight against maxConnections, and close() aborts them as ProducerClosed', async () => {
    const server = await startScriptedServer(() => undefined);
    const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: server.endpoint });
    try {
      const sender = new Sender(client, { streamName: 's' }, { maxConnections: 2, requestTimeout: 60_000 });
      expect(sender.hasCapacity).toBe(true);
      const first = sender.send([record('a', '1')]);
      expect(sender.inFlight).toBe(1);
      expect(sender.hasCapacity).toBe(true);
      const second = sender.send([record('b', '2')]);
      expect(sender.inFlight).toBe(2);
      expect(sender.hasCapacity).toBe(false);
      sender.close();
      const outcomes: SendOutcome[] = await Promise.all([first, second]);
      for (const outcome of outcomes) expect(outcome).toMatchObject({ kind: 'failed', errorCode: 'ProducerClosed' });
      expect(sender.inFlight).toBe(0);
      expect(await sender.send([record('c', '3')])).toMatchObject({ kind: 'failed', errorCode: 'ProducerClosed' });
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('speaks HTTP/2 when asked', async () => {
    const protocols: string[] = [];
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      protocols.push(String(headers[':method']));
      stream.resume();
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/x-amz-json-1.1' });
        stream.end(JSON.stringify({ FailedRecordCount: 0, Records: [{ ShardId: 'shardId-000000000000', SequenceNumber: '1' }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: `http://127.0.0.1:${port}`, http2: true });
    try {
      const outcome = await new Sender(client, { streamName: 's' }, SENDER_OPTIONS).send([record('a', '1')]);
      expect(outcome).toMatchObject({ kind: 'sent', records: [{ shardId: 'shardId-000000000000', sequenceNumber: '1' }] });
      expect(protocols).toEqual(['POST']);
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('Sender on kinesis-local: StreamARN addressing, TLS verification', () => {
  const local = useKinesisLocal((endpoint) => createKinesisClient({ ...CLIENT_OPTIONS, endpoint }));

  it('puts records addressed by ARN onto the shards that own their keys', async () => {
    const streamName = uniqueStreamName('sender-arn');
    await createStream(local.admin, streamName, 3);
    const summary = await local.admin.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const streamARN = summary.StreamDescriptionSummary!.StreamARN!;
    const records = Array.from({ length: 20 }, (_, i) => record(`arn-${i}`, `v${i}`));
    const outcome = await new Sender(local.client, { streamARN }, SENDER_OPTIONS).send(records);
    expect(outcome.kind).toBe('sent');
    if (outcome.kind !== 'sent') return;
    const shards = await listAllShards(local.admin, streamName);
    outcome.records.forEach((result, i) => {
      expect(result).toMatchObject({ shardId: shardOwningHashKey(shards, hashKeyOf(records[i]!))?.ShardId });
    });
    const stored = await readAllRecords(local.admin, streamName);
    expect(stored.map((r) => r.partitionKey).sort()).toEqual(records.map((r) => r.partitionKey).sort());
  });

  it('verifies TLS certificates: a server with a self-signed certificate is refused', async () => {
    const tls = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: local.server.tlsEndpoint });
    try {
      const outcome = await new Sender(tls, { streamName: 's' }, SENDER_OPTIONS).send([record('a', '1')]);
      expect(outcome.kind).toBe('failed');
      if (outcome.kind !== 'failed') return;
      expect(outcome.errorCode).toMatch(/SELF_SIGNED|CERT/);
    } finally {
      tls.destroy();
    }
  });
});
