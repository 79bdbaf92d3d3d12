import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  MergeShardsCommand,
  type Shard,
  SplitShardCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KinesisProducer, UserRecordResult } from '../../src/index.js';
import { RESHARDED_ERROR_CODE } from '../../src/pipeline/settle.js';
import { createRandom } from '../../src/testing/random.js';
import {
  createKinesisClient,
  createStream,
  isOpenShard,
  listAllShards,
  readAsKcl,
  uniqueStreamName,
  waitForStreamActive,
} from '../support/index.js';
import { type KinesisLocal, startKinesisLocal } from '../support/kinesis-local.js';
import { createProducer } from '../support/producer.js';

const WAVE_MS = 25;

/** A record added, and what its promise said. */
interface Sent {
  readonly id: string;
  result?: UserRecordResult;
  error?: unknown;
}

/**
 * Adds `waves` waves of `perWave` records with random partition keys, one wave every 25 ms, and
 * runs `reshard(wave)` in the background at the waves it names, so that records are being
 * aggregated, in flight and retried while the stream changes.
 */
async function writeWhileResharding(
  producer: KinesisProducer,
  waves: number,
  perWave: number,
  reshards: ReadonlyMap<number, () => Promise<void>>,
): Promise<Sent[]> {
  const random = createRandom(7);
  const sent: Sent[] = [];
  const settling: Array<Promise<void>> = [];
  const resharding: Array<Promise<void>> = [];
  for (let wave = 0; wave < waves; wave++) {
    const reshard = reshards.get(wave);
    if (reshard !== undefined) resharding.push(reshard());
    for (let i = 0; i < perWave; i++) {
      const record: Sent = { id: `${wave}-${i}` };
      sent.push(record);
      settling.push(
        producer.add({ partitionKey: `key-${Math.floor(random() * 1e9)}`, data: record.id }).then(
          (result) => {
            record.result = result;
          },
          (error: unknown) => {
            record.error = error;
          },
        ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, WAVE_MS));
  }
  await Promise.all(resharding);
  await Promise.all(settling);
  await producer.flush();
  return sent;
}

/**
 * Reads the stream back as the KCL does and checks that every record is visible, and that every
 * promise points at the shard, sequence number and sub-sequence number where the reader finds it.
 * Returns what a raw reader sees besides: the sub-records it reads twice.
 */
async function expectEveryRecordWherePromised(
  client: KinesisClient,
  streamName: string,
  sent: readonly Sent[],
): Promise<{ rawDuplicates: number; skipped: number }> {
  const { records, skipped } = await readAsKcl(client, streamName);
  const found = new Map<string, string>();
  const visible = new Set<string>();
  for (const record of records) {
    const id = Buffer.from(record.data).toString();
    visible.add(id);
    found.set(`${record.shardId}/${record.sequenceNumber}/${record.subSequenceNumber}`, id);
  }
  expect(sent.filter((record) => record.error !== undefined).map((record) => String(record.error))).toEqual([]);
  expect(sent.filter((record) => !visible.has(record.id)).map((record) => record.id)).toEqual([]);
  const elsewhere = sent.filter(
    ({ id, result }) => result === undefined || found.get(`${result.shardId}/${result.sequenceNumber}/${result.subSequenceNumber}`) !== id,
  );
  expect(elsewhere.map(({ id, result }) => `${id} -> ${result?.shardId}/${result?.sequenceNumber}/${result?.subSequenceNumber}`)).toEqual(
    [],
  );
  return { rawDuplicates: records.length + skipped.length - sent.length, skipped: skipped.length };
}

/** Attempts that stored a record outside its shard's range, after which it was sent again. */
function resentAttempts(sent: readonly Sent[]): number {
  let count = 0;
  for (const { result } of sent) for (const attempt of result?.attempts ?? []) if (attempt.errorCode === RESHARDED_ERROR_CODE) count++;
  return count;
}

async function metricTotal(producer: KinesisProducer, name: string): Promise<number> {
  const metric = await producer.metrics.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
}

function byStartingKey(a: Shard, b: Shard): number {
  return BigInt(a.HashKeyRange?.StartingHashKey ?? 0) < BigInt(b.HashKeyRange?.StartingHashKey ?? 0) ? -1 : 1;
}

describe('producer during resharding (kinesalite)', () => {
  const endpoint = inject('kinesaliteEndpoint');
  const client = createKinesisClient(endpoint);
  const streamName = uniqueStreamName('reshard');
  beforeAll(async () => createStream(client, streamName, 4));
  afterAll(() => client.destroy());

  it('through a split and a merge, every record is visible to a KCL reader where its promise says', async () => {
    const producer = createProducer(endpoint, { streamName, metricsLevel: 'summary' });
    const openShards = async (): Promise<Shard[]> => (await listAllShards(client, streamName)).filter(isOpenShard).sort(byStartingKey);
    const split = async (): Promise<void> => {
      const first = (await openShards())[0] as Shard;
      const start = BigInt(first.HashKeyRange?.StartingHashKey ?? 0);
      const end = BigInt(first.HashKeyRange?.EndingHashKey ?? 0);
      await client.send(
        new SplitShardCommand({ StreamName: streamName, ShardToSplit: first.ShardId, NewStartingHashKey: String((start + end) / 2n) }),
      );
      await waitForStreamActive(client, streamName);
    };
    const merge = async (): Promise<void> => {
      const [left, right] = (await openShards()).slice(-2) as [Shard, Shard];
      await client.send(
        new MergeShardsCommand({ StreamName: streamName, ShardToMerge: left.ShardId, AdjacentShardToMerge: right.ShardId }),
      );
      await waitForStreamActive(client, streamName);
    };
    const sent = await writeWhileResharding(
      producer,
      40,
      500,
      new Map([
        [5, split],
        [20, merge],
      ]),
    );
    const { rawDuplicates, skipped } = await expectEveryRecordWherePromised(client, streamName, sent);
    const resent = await metricTotal(producer, 'kpl_user_records_resent_after_reshard_total');
    console.log(
      `kinesalite split + merge: ${sent.length} records, ${resent} sent again after landing outside their shard's range ` +
        `(a KCL reader skipped ${skipped}, a raw reader sees ${rawDuplicates} duplicates)`,
    );
    expect(resent).toBe(resentAttempts(sent));
    // Each copy a KCL reader skips was sent again; a copy sent again whole is visible too, and not skipped.
    expect(skipped).toBeLessThanOrEqual(resent);
  });
});

describe('producer during UpdateShardCount (kinesis-local, stream named by its ARN)', () => {
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

  it('from 3 to 6 shards, every record is visible to a KCL reader where its promise says', async () => {
    const streamName = uniqueStreamName('kl-reshard');
    await createStream(client, streamName, 3);
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const streamARN = summary.StreamDescriptionSummary?.StreamARN as string;
    const producer = createProducer(server.endpoint, { streamARN, metricsLevel: 'summary' });
    const scaleUp = async (): Promise<void> => {
      await client.send(new UpdateShardCountCommand({ StreamARN: streamARN, TargetShardCount: 6, ScalingType: 'UNIFORM_SCALING' }));
      await waitForStreamActive(client, streamName);
    };
    const sent = await writeWhileResharding(producer, 24, 250, new Map([[4, scaleUp]]));
    expect((await listAllShards(client, streamName)).filter(isOpenShard)).toHaveLength(6);
    const { rawDuplicates, skipped } = await expectEveryRecordWherePromised(client, streamName, sent);
    const resent = await metricTotal(producer, 'kpl_user_records_resent_after_reshard_total');
    console.log(
      `kinesis-local UpdateShardCount 3 -> 6: ${sent.length} records, ${resent} sent again after landing outside their shard's range ` +
        `(a KCL reader skipped ${skipped}, a raw reader sees ${rawDuplicates} duplicates)`,
    );
    expect(resent).toBe(resentAttempts(sent));
    // Each copy a KCL reader skips was sent again; a copy sent again whole is visible too, and not skipped.
    expect(skipped).toBeLessThanOrEqual(resent);
  });
});
