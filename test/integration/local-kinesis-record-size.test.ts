import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordCommand,
  PutRecordsCommand,
  UpdateMaxRecordSizeCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { LocalKinesis, LocalKinesisOptions } from '../../src/testing/index.js';
import { createKinesisClient, readAllRecords, startLocalKinesis } from '../support/index.js';

const STREAM = 'sized';
const MiB = 1024 * 1024;

async function start(options: LocalKinesisOptions): Promise<[LocalKinesis, KinesisClient]> {
  const kinesis = await startLocalKinesis(options);
  const client = createKinesisClient(kinesis.endpoint);
  onTestFinished(() => client.destroy());
  return [kinesis, client];
}

/** `bytes` of data whose content says which record it is, so that a swapped record shows. */
function filled(bytes: number, seed: number): Uint8Array {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4096) data[i] = (seed + i / 4096) & 0xff;
  data[bytes - 1] = seed & 0xff;
  return data;
}

function arn(name: string): string {
  return `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`;
}

async function summary(client: KinesisClient, name: string) {
  const { StreamDescriptionSummary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
  return StreamDescriptionSummary;
}

describe('LocalKinesis record sizes', () => {
  it('reports MaxRecordSizeInKiB 1,024 and the stream mode, and UpdateMaxRecordSize changes it', async () => {
    const [local, client] = await start({ streams: [{ name: STREAM, shards: 1 }] });
    expect(await summary(client, STREAM)).toMatchObject({
      MaxRecordSizeInKiB: 1024,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      StreamStatus: 'ACTIVE',
    });
    await client.send(new UpdateMaxRecordSizeCommand({ StreamARN: arn(STREAM), MaxRecordSizeInKiB: 10_240 }));
    expect((await summary(client, STREAM))?.MaxRecordSizeInKiB).toBe(10_240);
    expect(local.maxRecordSizeInKiB(STREAM)).toBe(10_240);
    for (const wrong of [1023, 10_241]) {
      await expect(
        client.send(new UpdateMaxRecordSizeCommand({ StreamARN: arn(STREAM), MaxRecordSizeInKiB: wrong })),
      ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('between 1024 and 10240') });
    }
    await expect(
      client.send(new UpdateMaxRecordSizeCommand({ StreamARN: arn('no-such-stream'), MaxRecordSizeInKiB: 2048 })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('takes MaxRecordSizeInKiB from CreateStream and StreamSpec', async () => {
    const [, client] = await start({ streams: [{ name: STREAM, shards: 1, maxRecordSizeInKiB: 4096 }] });
    expect((await summary(client, STREAM))?.MaxRecordSizeInKiB).toBe(4096);
    await client.send(new CreateStreamCommand({ StreamName: 'created', ShardCount: 1, MaxRecordSizeInKiB: 2048 }));
    expect((await summary(client, 'created'))?.MaxRecordSizeInKiB).toBe(2048);
  });

  it('stores records of 2, 5 and 10 MiB with their keys among small ones and returns them whole, in order', async () => {
    const [local, client] = await start({ streams: [{ name: STREAM, shards: 1, maxRecordSizeInKiB: 10_240 }], limits: false });
    const key = 'k'.repeat(10);
    const sizes = [2 * MiB, 5 * MiB, 10 * MiB];
    const sent: Uint8Array[] = [];
    for (let i = 0; i < sizes.length; i++) {
      const large = filled((sizes[i] as number) - key.length, i + 1);
      const small = filled(100, 100 + i);
      const records =
        sizes[i] === 10 * MiB
          ? [{ PartitionKey: key, Data: large }]
          : [
              { PartitionKey: key, Data: small },
              { PartitionKey: key, Data: large },
            ];
      const answer = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
      expect(answer.FailedRecordCount).toBe(0);
      sent.push(...records.map((record) => record.Data));
    }
    const single = filled(3 * MiB, 9);
    await client.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: key, Data: single }));
    sent.push(single);

    const stored = await readAllRecords(client, STREAM);
    expect(stored.map((record) => record.data.length)).toEqual(sent.map((data) => data.length));
    stored.forEach((record, i) => expect(Buffer.compare(record.data, sent[i] as Uint8Array)).toBe(0));
    expect(local.stats().acceptedRecords).toBe(sent.length);
  });

  it("refuses a record over the stream's limit and a request over 10 MiB, naming the limit", async () => {
    const [local, client] = await start({ streams: [{ name: STREAM, shards: 1, maxRecordSizeInKiB: 10_240 }], limits: false });
    await expect(
      client.send(new PutRecordsCommand({ StreamName: STREAM, Records: [{ PartitionKey: 'k', Data: new Uint8Array(10 * MiB) }] })),
    ).rejects.toMatchObject({ name: 'InvalidArgumentException', message: expect.stringContaining('the limit is 10,485,760') });
    const fourMiB = new Uint8Array(4 * MiB);
    const tooMuch = [1, 2, 3].map((i) => ({ PartitionKey: `key-${i}`, Data: fourMiB }));
    await expect(client.send(new PutRecordsCommand({ StreamName: STREAM, Records: tooMuch }))).rejects.toMatchObject({
      name: 'InvalidArgumentException',
      message: expect.stringContaining('the limit is 10,485,760'),
    });
    await expect(
      client.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: new Uint8Array(10 * MiB) })),
    ).rejects.toMatchObject({ name: 'InvalidArgumentException' });
    expect(local.stats().acceptedRecords).toBe(0);
  });

  it('takes a request of 10 MiB of records of 1 MiB on a default stream, in several calls to kinesalite', async () => {
    const [, client] = await start({ streams: [{ name: STREAM, shards: 2 }], limits: false });
    const records = Array.from({ length: 10 }, (_, i) => ({ PartitionKey: `key-${i}`, Data: filled(MiB - 6, i) }));
    const answer = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
    expect(answer.FailedRecordCount).toBe(0);
    const stored = await readAllRecords(client, STREAM);
    expect(stored).toHaveLength(10);
    const byKey = new Map(stored.map((record) => [record.partitionKey, record.data]));
    records.forEach((record) => expect(Buffer.compare(byKey.get(record.PartitionKey) as Uint8Array, record.Data)).toBe(0));
  });

  it("lets a record larger than a second's bytes through when the shard's bucket is full, and throttles what follows", async () => {
    const [local, client] = await start({ streams: [{ name: STREAM, shards: 1, maxRecordSizeInKiB: 10_240 }] });
    const large = await client.send(
      new PutRecordsCommand({ StreamName: STREAM, Records: [{ PartitionKey: 'k', Data: new Uint8Array(5 * MiB) }] }),
    );
    expect(large.FailedRecordCount).toBe(0);
    const next = await client.send(
      new PutRecordsCommand({ StreamName: STREAM, Records: [{ PartitionKey: 'k', Data: new Uint8Array(1000) }] }),
    );
    expect(next.Records?.[0]?.ErrorCode).toBe('ProvisionedThroughputExceededException');
    expect(local.stats().acceptedRecords).toBe(1);
  });

  it('counts 1 MiB with the key as the limit of a default stream', async () => {
    const [, client] = await start({ streams: [{ name: STREAM, shards: 1 }], limits: false });
    const key = 'k'.repeat(10);
    const atLimit = await client.send(
      new PutRecordsCommand({ StreamName: STREAM, Records: [{ PartitionKey: key, Data: new Uint8Array(MiB - 10) }] }),
    );
    expect(atLimit.FailedRecordCount).toBe(0);
    await expect(
      client.send(new PutRecordsCommand({ StreamName: STREAM, Records: [{ PartitionKey: key, Data: new Uint8Array(MiB - 9) }] })),
    ).rejects.toMatchObject({ name: 'InvalidArgumentException', message: expect.stringContaining('the limit is 1,048,576') });
  });
});
