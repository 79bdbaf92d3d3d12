import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordsCommand,
  UpdateShardCountCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKinesisClient,
  createStream,
  isOpenShard,
  listAllShards,
  readAllRecords,
  uniqueStreamName,
  waitForStreamActive,
} from '../support/index.js';
import { startKinesisLocal, type KinesisLocal } from '../support/kinesis-local.js';

describe('kinesis-local in a child process', () => {
  let server: KinesisLocal;
  let client: KinesisClient;
  beforeAll(async () => {
    server = await startKinesisLocal();
    client = createKinesisClient(server.endpoint);
  });
  afterAll(async () => {
    client.destroy();
    await server.stop();
  });

  it('listens on 127.0.0.1 only', () => {
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.tlsEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers on its TLS port too', async () => {
    const tlsClient = createKinesisClient(server.tlsEndpoint);
    try {
      const streams = await tlsClient.send(new ListStreamsCommand({}));
      expect(streams.StreamNames).toBeDefined();
    } finally {
      tlsClient.destroy();
    }
  });

  it('pages ListShards: MaxResults on the first page, only NextToken on later ones', async () => {
    const streamName = uniqueStreamName('kl-paging');
    await createStream(client, streamName, 5);
    const first = await client.send(new ListShardsCommand({ StreamName: streamName, MaxResults: 2 }));
    expect(first.Shards).toHaveLength(2);
    expect(first.NextToken).toBeDefined();
    const second = await client.send(new ListShardsCommand({ NextToken: first.NextToken, MaxResults: 2 }));
    expect(second.Shards).toHaveLength(2);
    const all = await listAllShards(client, streamName);
    expect(all.map((shard) => shard.ShardId)).toHaveLength(5);
  });

  it('addresses a stream by StreamARN and filters open shards with AT_LATEST after UpdateShardCount', async () => {
    const streamName = uniqueStreamName('kl-arn');
    await createStream(client, streamName, 2);
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const streamARN = summary.StreamDescriptionSummary?.StreamARN;
    expect(streamARN).toMatch(/^arn:aws:kinesis:us-east-1:\d{12}:stream\//);

    const put = await client.send(
      new PutRecordsCommand({
        StreamARN: streamARN,
        Records: [{ PartitionKey: 'by-arn', Data: new TextEncoder().encode('hello') }],
      }),
    );
    expect(put.FailedRecordCount).toBe(0);

    await client.send(new UpdateShardCountCommand({ StreamName: streamName, TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' }));
    await waitForStreamActive(client, streamName);
    const all = await listAllShards(client, streamName);
    const latest = await client.send(new ListShardsCommand({ StreamARN: streamARN, ShardFilter: { Type: 'AT_LATEST' } }));
    expect(latest.Shards?.length).toBe(all.filter(isOpenShard).length);
    expect(latest.Shards?.every(isOpenShard)).toBe(true);
    expect(all.length).toBeGreaterThan(latest.Shards?.length ?? 0);

    const records = await readAllRecords(client, streamName);
    expect(records.map((record) => record.partitionKey)).toEqual(['by-arn']);
  });
});

describe('stopping kinesis-local', () => {
  it('ends the process even while a keep-alive connection is open', async () => {
    const server = await startKinesisLocal();
    const client = createKinesisClient(server.endpoint);
    try {
      await createStream(client, uniqueStreamName('kl-stop'), 1);
      await server.stop();
      expect(() => process.kill(server.pid, 0)).toThrow();
    } finally {
      client.destroy();
      await server.stop();
    }
  });
});
