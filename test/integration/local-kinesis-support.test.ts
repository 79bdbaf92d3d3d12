import { MergeShardsCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createKinesisClient,
  createStream,
  isOpenShard,
  listAllShards,
  md5HashKey,
  readAllRecords,
  readRecordsByShard,
  shardOwningHashKey,
  uniqueStreamName,
  waitForStreamActive,
} from '../support/index.js';

describe('test support against the shared kinesalite', () => {
  let client: KinesisClient;
  beforeAll(() => {
    client = createKinesisClient(inject('kinesaliteEndpoint'));
  });
  afterAll(() => client.destroy());

  it('creates an ACTIVE stream and reads back every record on the shard that owns its key', async () => {
    const streamName = uniqueStreamName('support');
    await createStream(client, streamName, 3);
    const entries = Array.from({ length: 60 }, (_, i) => ({
      PartitionKey: `key-${i}`,
      Data: new TextEncoder().encode(`record ${i}`),
    }));
    const put = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
    expect(put.FailedRecordCount).toBe(0);

    const shards = await listAllShards(client, streamName);
    const records = await readAllRecords(client, streamName);
    expect(records).toHaveLength(60);
    for (const record of records) {
      expect(shardOwningHashKey(shards, md5HashKey(record.partitionKey))?.ShardId).toBe(record.shardId);
    }
    const put0 = put.Records?.[0];
    const stored0 = records.find((record) => record.partitionKey === 'key-0');
    expect(stored0?.sequenceNumber).toBe(put0?.SequenceNumber);
    expect(new TextDecoder().decode(stored0?.data)).toBe('record 0');
  });

  it('reads closed parent shards after a merge', async () => {
    const streamName = uniqueStreamName('support-merge');
    await createStream(client, streamName, 2);
    const first = [{ PartitionKey: 'before', Data: new Uint8Array([1]) }];
    await client.send(new PutRecordsCommand({ StreamName: streamName, Records: first }));
    await client.send(
      new MergeShardsCommand({
        StreamName: streamName,
        ShardToMerge: 'shardId-000000000000',
        AdjacentShardToMerge: 'shardId-000000000001',
      }),
    );
    await waitForStreamActive(client, streamName);
    await client.send(new PutRecordsCommand({ StreamName: streamName, Records: [{ PartitionKey: 'after', Data: new Uint8Array([2]) }] }));

    const shards = await listAllShards(client, streamName);
    expect(shards.filter(isOpenShard)).toHaveLength(1);
    const byShard = await readRecordsByShard(client, streamName);
    expect(byShard.size).toBe(3);
    const keys = [...byShard.values()].flat().map((record) => record.partitionKey);
    expect(keys.sort()).toEqual(['after', 'before']);
    expect(byShard.get('shardId-000000000002')?.map((record) => record.partitionKey)).toEqual(['after']);
  });
});
