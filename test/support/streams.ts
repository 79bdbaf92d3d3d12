import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';

const ACTIVE_WAIT_MS = 30_000;
const POLL_MS = 20;

/** A stream name no other test uses: `<prefix>-<random hex>`, within Kinesis' 128 characters. */
export function uniqueStreamName(prefix = 'test'): string {
  return `${prefix.slice(0, 100)}-${randomBytes(6).toString('hex')}`;
}

/** Creates a provisioned stream and resolves once it is ACTIVE (rejects after 30 s). */
export async function createStream(client: KinesisClient, streamName: string, shardCount: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  await waitForStreamActive(client, streamName);
}

/**
 * Resolves once the stream is ACTIVE, e.g. after CreateStream, SplitShard, MergeShards or
 * UpdateShardCount. Rejects after 30 s naming the last status seen.
 */
export async function waitForStreamActive(client: KinesisClient, streamName: string): Promise<void> {
  const deadline = Date.now() + ACTIVE_WAIT_MS;
  let status: string | undefined;
  while (Date.now() < deadline) {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    status = summary.StreamDescriptionSummary?.StreamStatus;
    if (status === 'ACTIVE') return;
    await sleep(POLL_MS);
  }
  throw new Error(`stream ${streamName} is still ${status ?? 'unknown'} after ${ACTIVE_WAIT_MS} ms; expected ACTIVE`);
}

/** Deletes a stream without waiting for it to go. */
export async function deleteStream(client: KinesisClient, streamName: string): Promise<void> {
  await client.send(new DeleteStreamCommand({ StreamName: streamName, EnforceConsumerDeletion: true }));
}

/**
 * Every shard of the stream, open and closed, following NextToken pages (kinesalite answers in
 * one page; kinesis-local pages). Ranges are as the server reports them: never assume them even.
 */
export async function listAllShards(client: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListShardsCommand(nextToken === undefined ? { StreamName: streamName } : { NextToken: nextToken }));
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return shards;
}

/** True when the shard still takes writes (it has no ending sequence number). */
export function isOpenShard(shard: Shard): boolean {
  return shard.SequenceNumberRange?.EndingSequenceNumber === undefined;
}

/**
 * The open shard whose hash key range holds `hashKey` (a decimal string, or a bigint), or
 * undefined when none does.
 */
export function shardOwningHashKey(shards: readonly Shard[], hashKey: string | bigint): Shard | undefined {
  const key = BigInt(hashKey);
  return shards.find(
    (shard) =>
      isOpenShard(shard) &&
      BigInt(shard.HashKeyRange?.StartingHashKey ?? '-1') <= key &&
      key <= BigInt(shard.HashKeyRange?.EndingHashKey ?? '-1'),
  );
}
