import type { Shard } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deaggregate, KinesisProducer, type UserRecord, type UserRecordResult } from '../../src/index.js';
import {
  createKinesisClient,
  createStream,
  listAllShards,
  readAllRecords,
  shardOwningHashKey,
  uniqueStreamName,
} from '../support/index.js';
import { mixedPartitionKey, randomExplicitHashKey, referenceHashKey } from '../support/records.js';
import { createRandom } from '../../src/testing/random.js';

const RECORDS = 20_000;
const SHARDS = 8;

describe('producer read-back', () => {
  const endpoint = inject('kinesaliteEndpoint');
  const client = createKinesisClient(endpoint);
  const streamName = uniqueStreamName('read-back');
  let shards: Shard[] = [];

  beforeAll(async () => {
    await createStream(client, streamName, SHARDS);
    shards = await listAllShards(client, streamName);
  });
  afterAll(() => client.destroy());

  it(`delivers ${RECORDS.toLocaleString()} mixed records intact, on the shard owning each hash key, where each promise says`, async () => {
    const random = createRandom(20261122);
    const records: UserRecord[] = [];
    for (let i = 0; i < RECORDS; i++) {
      const data = new Uint8Array(100);
      data.set(Buffer.from(`#${i}#`));
      for (let j = 12; j < data.length; j++) data[j] = Math.floor(random() * 256);
      const partitionKey = mixedPartitionKey(random, i);
      records.push(random() < 0.1 ? { partitionKey, data, explicitHashKey: randomExplicitHashKey(random) } : { partitionKey, data });
    }

    const producer = new KinesisProducer({
      streamName,
      endpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      metricsLevel: 'none',
    });
    const results: UserRecordResult[] = await Promise.all(records.map((record) => producer.add(record)));
    await producer.close();

    const stored = await readAllRecords(client, streamName);
    const where = new Map<
      string,
      {
        shardId: string;
        sequenceNumber: string;
        subSequenceNumber: number;
        partitionKey: string;
        explicitHashKey: string | undefined;
        data: Uint8Array;
      }
    >();
    for (const kinesisRecord of stored) {
      for (const user of deaggregate(kinesisRecord)) {
        const id = Buffer.from(user.data.subarray(0, 12)).toString('latin1').split('#')[1] as string;
        expect(where.has(id), `record ${id} stored twice`).toBe(false);
        where.set(id, {
          shardId: kinesisRecord.shardId,
          sequenceNumber: kinesisRecord.sequenceNumber,
          subSequenceNumber: user.subSequenceNumber,
          partitionKey: user.partitionKey,
          explicitHashKey: user.explicitHashKey,
          data: user.data,
        });
      }
    }

    expect(where.size).toBe(RECORDS);
    for (let i = 0; i < RECORDS; i++) {
      const record = records[i] as UserRecord;
      const result = results[i] as UserRecordResult;
      const found = where.get(String(i));
      expect(found, `record ${i} missing`).toBeDefined();
      if (found === undefined) continue;
      expect(found.partitionKey).toBe(record.partitionKey);
      expect(found.explicitHashKey).toBe(record.explicitHashKey);
      expect(Buffer.from(found.data).equals(Buffer.from(record.data as Uint8Array))).toBe(true);
      const owner = shardOwningHashKey(shards, referenceHashKey(record.partitionKey, record.explicitHashKey));
      expect(found.shardId).toBe(owner?.ShardId);
      expect({ shardId: result.shardId, sequenceNumber: result.sequenceNumber, subSequenceNumber: result.subSequenceNumber }).toEqual({
        shardId: found.shardId,
        sequenceNumber: found.sequenceNumber,
        subSequenceNumber: found.subSequenceNumber,
      });
      expect(result.attempts.at(-1)?.success).toBe(true);
    }
    // First-try successes that became ready in the same millisecond share one attempt list, which
    // is then frozen so that no caller can change another record's result.
    const owners = new Map<UserRecordResult['attempts'], number>();
    for (const result of results) owners.set(result.attempts, (owners.get(result.attempts) ?? 0) + 1);
    expect([...owners.values()].some((count) => count > 1)).toBe(true);
    for (const [attempts, count] of owners) {
      if (attempts.length === 1)
        expect(attempts[0]).toMatchObject({ success: true, delayMs: expect.any(Number), durationMs: expect.any(Number) });
      if (count > 1) {
        expect(Object.isFrozen(attempts)).toBe(true);
        expect(Object.isFrozen(attempts[0])).toBe(true);
      }
    }
    const userRecordsPerKinesisRecord = RECORDS / stored.length;
    expect(userRecordsPerKinesisRecord).toBeGreaterThanOrEqual(10);
  });
});
