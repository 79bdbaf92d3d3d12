import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deaggregate, KinesisProducer } from '../../src/index.js';
import { createKinesisClient, createStream, readAllRecords, uniqueStreamName } from '../support/index.js';

describe('producer smoke', () => {
  const endpoint = inject('kinesaliteEndpoint');
  const client = createKinesisClient(endpoint);
  const streamName = uniqueStreamName('smoke');
  beforeAll(async () => createStream(client, streamName, 4));
  afterAll(() => client.destroy());

  it('delivers aggregated records where the promises say', async () => {
    const producer = new KinesisProducer({ streamName, endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const results = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => producer.add({ partitionKey: `key-${i}`, data: `record ${i}` })),
    );
    await producer.close();
    const stored = await readAllRecords(client, streamName);
    const found = new Map<string, string>();
    for (const record of stored) {
      for (const user of deaggregate(record))
        found.set(Buffer.from(user.data).toString(), `${record.shardId}/${record.sequenceNumber}/${user.subSequenceNumber}`);
    }
    expect(found.size).toBe(2000);
    results.forEach((result, i) =>
      expect(found.get(`record ${i}`)).toBe(`${result.shardId}/${result.sequenceNumber}/${result.subSequenceNumber}`),
    );
    expect(stored.length).toBeLessThan(100);
  });
});
