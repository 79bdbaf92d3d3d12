import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postRawKinesis, type RawKinesisAnswer } from '../../bench/support/raw-kinesis-request.js';
import { decodeCbor } from '../../src/testing/cbor.js';
import { LocalKinesis } from '../../src/testing/index.js';
import {
  createKinesisClient,
  isOpenShard,
  listAllShards,
  md5HashKey,
  readAllRecords,
  shardOwningHashKey,
  waitForStreamActive,
} from '../support/index.js';

describe('LocalKinesis beyond kinesalite', () => {
  let kinesis: LocalKinesis;
  let client: KinesisClient;
  beforeAll(async () => {
    kinesis = await LocalKinesis.start({
      streams: [
        { name: 'paged', shards: 7 },
        { name: 'by-arn', shards: 2 },
        { name: 'resharded', shards: 2 },
        { name: 'cbor', shards: 2 },
      ],
    });
    client = createKinesisClient(kinesis.endpoint);
  });
  afterAll(async () => {
    client.destroy();
    await kinesis.close();
  });

  it('pages ListShards with MaxResults; later pages carry only NextToken', async () => {
    const first = await client.send(new ListShardsCommand({ StreamName: 'paged', MaxResults: 3 }));
    expect(first.Shards?.map((shard) => shard.ShardId)).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
    const second = await client.send(new ListShardsCommand({ NextToken: first.NextToken, MaxResults: 3 }));
    const third = await client.send(new ListShardsCommand({ NextToken: second.NextToken, MaxResults: 3 }));
    expect(third.Shards?.map((shard) => shard.ShardId)).toEqual(['shardId-000000000006']);
    expect(third.NextToken).toBeUndefined();
    await expect(client.send(new ListShardsCommand({ StreamName: 'paged', NextToken: first.NextToken }))).rejects.toMatchObject({
      name: 'InvalidArgumentException',
    });
  });

  it('addresses streams by StreamARN', async () => {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'by-arn' }));
    const StreamARN = summary.StreamDescriptionSummary?.StreamARN;
    expect(StreamARN).toBe('arn:aws:kinesis:us-east-1:000000000000:stream/by-arn');
    const put = await client.send(
      new PutRecordsCommand({ StreamARN, Records: [{ PartitionKey: 'arn', Data: new Uint8Array([1, 2, 3]) }] }),
    );
    expect(put.FailedRecordCount).toBe(0);
    const shards = await client.send(new ListShardsCommand({ StreamARN }));
    expect(shards.Shards).toHaveLength(2);
    const iterator = await client.send(
      new GetShardIteratorCommand({ StreamARN, ShardId: put.Records?.[0]?.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const read = await client.send(new GetRecordsCommand({ StreamARN, ShardIterator: iterator.ShardIterator }));
    expect(read.Records?.map((record) => record.PartitionKey)).toEqual(['arn']);
  });

  it('follows a split: records go to the children, AT_LATEST lists only open shards', async () => {
    const before = await listAllShards(client, 'resharded');
    const parent = before[0];
    const start = BigInt(parent?.HashKeyRange?.StartingHashKey ?? '0');
    const end = BigInt(parent?.HashKeyRange?.EndingHashKey ?? '0');
    const put = (key: string) =>
      client.send(new PutRecordsCommand({ StreamName: 'resharded', Records: [{ PartitionKey: key, Data: new Uint8Array(1) }] }));
    const keyOnParent = Array.from({ length: 100 }, (_, i) => `k${i}`).find((key) => {
      const hash = md5HashKey(key);
      return hash >= start && hash <= end;
    }) as string;
    expect((await put(keyOnParent)).Records?.[0]?.ShardId).toBe(parent?.ShardId);

    await client.send(
      new SplitShardCommand({
        StreamName: 'resharded',
        ShardToSplit: parent?.ShardId,
        NewStartingHashKey: ((start + end) / 2n).toString(),
      }),
    );
    await waitForStreamActive(client, 'resharded');
    const after = await listAllShards(client, 'resharded');
    expect(after).toHaveLength(4);
    const latest = await client.send(new ListShardsCommand({ StreamName: 'resharded', ShardFilter: { Type: 'AT_LATEST' } }));
    expect(latest.Shards?.map((shard) => shard.ShardId).sort()).toEqual(
      after
        .filter(isOpenShard)
        .map((shard) => shard.ShardId)
        .sort(),
    );

    const landed = (await put(keyOnParent)).Records?.[0]?.ShardId;
    expect(landed).toBe(shardOwningHashKey(after, md5HashKey(keyOnParent))?.ShardId);
    expect(landed).not.toBe(parent?.ShardId);
    expect(kinesis.stats().streams['resharded']?.shards[landed ?? '']?.acceptedRecords).toBe(1);
    expect(await readAllRecords(client, 'resharded')).toHaveLength(2);
  });

  it('speaks CBOR, as the AWS SDK for Java does', async () => {
    // An indefinite-length map, as Jackson writes it: {"StreamName":"cbor","Records":[{...}, {...}]}.
    const body = Buffer.concat([
      Buffer.of(0xbf),
      text('StreamName'),
      text('cbor'),
      text('Records'),
      Buffer.of(0x82),
      Buffer.of(0xbf),
      text('Data'),
      bytes(Buffer.from('hello')),
      text('PartitionKey'),
      text('one'),
      Buffer.of(0xff),
      Buffer.of(0xa3),
      text('Data'),
      bytes(Buffer.alloc(300, 7)),
      text('PartitionKey'),
      text('two'),
      text('ExplicitHashKey'),
      text('0'),
      Buffer.of(0xff),
    ]);
    const answer = await postCbor(kinesis.endpoint, 'PutRecords', body);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/x-amz-cbor-1.1');
    const decoded = decodeCbor(answer.body) as { FailedRecordCount: number; Records: Array<{ ShardId: string }> };
    expect(decoded.FailedRecordCount).toBe(0);
    expect(decoded.Records[1]?.ShardId).toBe('shardId-000000000000');

    const stored = await readAllRecords(client, 'cbor');
    const byKey = new Map(stored.map((record) => [record.partitionKey, Buffer.from(record.data)]));
    expect(byKey.get('one')?.toString()).toBe('hello');
    expect(byKey.get('two')).toEqual(Buffer.alloc(300, 7));
  });
});

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.of((major << 5) | length);
  if (length < 256) return Buffer.of((major << 5) | 24, length);
  return Buffer.of((major << 5) | 25, length >> 8, length & 0xff);
}

function text(value: string): Buffer {
  const utf8 = Buffer.from(value, 'utf8');
  return Buffer.concat([head(3, utf8.length), utf8]);
}

function bytes(value: Buffer): Buffer {
  return Buffer.concat([head(2, value.length), value]);
}

function postCbor(endpoint: string, operation: string, body: Buffer): Promise<RawKinesisAnswer> {
  return postRawKinesis(new URL(endpoint), operation, 'application/x-amz-cbor-1.1', body, false);
}
