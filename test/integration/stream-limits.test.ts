import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Logger } from '../../src/config.js';
import { StreamLimitsTracker } from '../../src/pipeline/stream-limits.js';
import { startKinesalite } from '../../src/testing/kinesalite.js';
import { createKinesisClient, createStream, startLocalKinesis, uniqueStreamName } from '../support/index.js';
import { startKinesisLocal } from '../support/kinesis-local.js';

const MiB = 1024 * 1024;

function client(endpoint: string) {
  const kinesis = createKinesisClient(endpoint);
  onTestFinished(() => kinesis.destroy());
  return kinesis;
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug: () => undefined, info: () => undefined, error: () => undefined, warn: (message) => warnings.push(message) };
}

/** A Kinesis endpoint on 127.0.0.1 whose IAM policy denies everything: 400 AccessDeniedException. */
async function denyingKinesis(): Promise<{ endpoint: string; requests: () => number }> {
  let requests = 0;
  const server = http.createServer((request, response) => {
    requests++;
    request.resume();
    request.on('end', () => {
      const body = JSON.stringify({
        __type: 'AccessDeniedException',
        message: 'User: arn:aws:iam::000000000000:user/producer is not authorized to perform: kinesis:DescribeStreamSummary',
      });
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'AccessDeniedException' });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

describe('StreamLimitsTracker', () => {
  it('reads MaxRecordSizeInKiB, the stream mode and status from LocalKinesis', async () => {
    const local = await startLocalKinesis({
      streams: [
        { name: 'plain', shards: 1 },
        { name: 'large', shards: 1, maxRecordSizeInKiB: 10_240 },
      ],
    });
    const kinesis = client(local.endpoint);
    const plain = new StreamLimitsTracker(kinesis, { streamName: 'plain' });
    expect(plain.current).toMatchObject({ maxRecordBytes: MiB, source: 'default' });
    expect(plain.known).toBe(false);
    expect(await plain.refresh()).toEqual({
      maxRecordBytes: MiB,
      source: 'stream',
      streamMode: 'PROVISIONED',
      streamStatus: 'ACTIVE',
      description: 'MaxRecordSizeInKiB 1,024 of stream plain',
    });
    expect(plain.known).toBe(true);
    const large = new StreamLimitsTracker(kinesis, { streamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/large' });
    expect((await large.refresh()).maxRecordBytes).toBe(10 * MiB);
    local.setMaxRecordSize('large', 2048);
    expect((await large.refresh()).maxRecordBytes).toBe(2 * MiB);
  });

  it('takes 1 MiB from kinesalite, which predates MaxRecordSizeInKiB', async () => {
    const kinesalite = await startKinesalite();
    onTestFinished(() => kinesalite.close());
    const kinesis = client(kinesalite.endpoint);
    const name = uniqueStreamName('limits');
    await createStream(kinesis, name, 1);
    const limits = await new StreamLimitsTracker(kinesis, { streamName: name }).refresh();
    expect(limits).toMatchObject({ maxRecordBytes: MiB, source: 'stream', streamStatus: 'ACTIVE' });
  });

  it("reads kinesis-local's summary", async () => {
    const server = await startKinesisLocal();
    onTestFinished(() => server.stop());
    const kinesis = client(server.endpoint);
    const name = uniqueStreamName('limits');
    await createStream(kinesis, name, 1);
    const limits = await new StreamLimitsTracker(kinesis, { streamName: name }).refresh();
    expect(limits.source).toBe('stream');
    expect(limits.maxRecordBytes).toBeGreaterThanOrEqual(MiB);
    expect(limits.streamStatus).toBe('ACTIVE');
  }, 60_000);

  it('falls back to 1 MiB where DescribeStreamSummary is denied, logs it once and asks no more', async () => {
    const denying = await denyingKinesis();
    const logger = recordingLogger();
    const tracker = new StreamLimitsTracker(client(denying.endpoint), { streamName: 's' }, { logger });
    expect(await tracker.refresh()).toMatchObject({ maxRecordBytes: MiB, source: 'default' });
    expect(await tracker.refresh()).toMatchObject({ maxRecordBytes: MiB, source: 'default' });
    expect(denying.requests()).toBe(1);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('denied');
    expect(logger.warnings[0]).toContain('maxRecordSize');
  });

  it('takes the maxRecordSize option without calling DescribeStreamSummary', async () => {
    const denying = await denyingKinesis();
    const tracker = new StreamLimitsTracker(client(denying.endpoint), { streamName: 's' }, { maxRecordSize: 5 * MiB });
    expect(tracker.known).toBe(true);
    expect(await tracker.refresh()).toMatchObject({ maxRecordBytes: 5 * MiB, source: 'option' });
    expect(denying.requests()).toBe(0);
  });

  it('keeps 1 MiB while the endpoint is down, logs that once, and reads the limit once it answers', async () => {
    const local = await startLocalKinesis({ streams: [{ name: 'large', shards: 1, maxRecordSizeInKiB: 4096 }] });
    const logger = recordingLogger();
    const tracker = new StreamLimitsTracker(client(local.endpoint), { streamName: 'large' }, { logger });
    await local.setOutage(true);
    expect((await tracker.refresh()).source).toBe('default');
    expect((await tracker.refresh()).source).toBe('default');
    expect(logger.warnings).toHaveLength(1);
    await local.setOutage(false);
    expect(await tracker.refresh()).toMatchObject({ maxRecordBytes: 4 * MiB, source: 'stream' });
  });
});
