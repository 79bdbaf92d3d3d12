import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeStreamSummaryCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  type KinesisClient,
  type ListShardsCommandInput,
} from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKinesisClient } from '../../src/pipeline/kinesis-client.js';
import { listOpenShards } from '../../src/pipeline/list-shards.js';
import { ShardMap, type ShardRange } from '../../src/pipeline/shard-map.js';
import { ShardMapTracker, ShardMapTrackerClosedError } from '../../src/pipeline/shard-map-tracker.js';
import {
  createKinesisClient as createAdminClient,
  createStream,
  isOpenShard,
  listAllShards,
  shardOwningHashKey,
  uniqueStreamName,
  waitForStreamActive,
} from '../support/index.js';
import { useKinesisLocal } from '../support/kinesis-local.js';
import { hashKeyWords } from '../support/hash-keys.js';

const MAX = (1n << 128n) - 1n;
const CLIENT_OPTIONS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  maxConnections: 4,
  requestTimeout: 5_000,
  http2: false,
};
const FAST_RETRY = { minDelayMs: 5, maxDelayMs: 20 };

/** Records the input of every ListShards call the client makes: what went on the wire, unchanged. */
function recordListShardsInputs(client: KinesisClient): ListShardsCommandInput[] {
  const inputs: ListShardsCommandInput[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'ListShardsCommand') inputs.push({ ...(args.input as ListShardsCommandInput) });
      return next(args);
    },
    { step: 'initialize', name: 'recordListShardsInputs' },
  );
  return inputs;
}

/**
 * A real HTTP server in front of kinesalite whose first `failures` requests get a Kinesis error
 * answer, as a throttled or failing service would send; later requests are passed through.
 */
async function startFlakyFront(
  target: string,
  failures: number,
  errorType: string,
): Promise<{ endpoint: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const targetUrl = new URL(target);
  const server = http.createServer((request, response) => {
    requests++;
    const body: Buffer[] = [];
    request.on('data', (chunk: Buffer) => body.push(chunk));
    request.on('end', () => {
      if (requests <= failures) {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ __type: errorType, message: 'Rate exceeded for stream' }));
        return;
      }
      const forward = http.request(
        { host: targetUrl.hostname, port: targetUrl.port, method: request.method, path: request.url, headers: request.headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(response);
        },
      );
      forward.end(Buffer.concat(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sortById(shards: readonly ShardRange[]): ShardRange[] {
  return [...shards].sort((a, b) => a.shardId.localeCompare(b.shardId));
}

describe('listOpenShards and ShardMapTracker on kinesalite', () => {
  const endpoint = inject('kinesaliteEndpoint');
  const admin = createAdminClient(endpoint);
  const client = createKinesisClient({ ...CLIENT_OPTIONS, endpoint });
  afterAll(() => {
    admin.destroy();
    client.destroy();
  });

  it('lists every open shard with its range, and the map places keys as Kinesis does', async () => {
    const streamName = uniqueStreamName('sm-list');
    await createStream(admin, streamName, 4);
    const shards = await listOpenShards(client, { streamName });
    const all = await listAllShards(admin, streamName);
    expect(sortById(shards)).toEqual(
      sortById(
        all.map((s) => ({
          shardId: s.ShardId!,
          startingHashKey: s.HashKeyRange!.StartingHashKey!,
          endingHashKey: s.HashKeyRange!.EndingHashKey!,
        })),
      ),
    );
    const map = ShardMap.fromShards(shards);
    for (const key of [0n, 1n << 126n, (1n << 127n) + 17n, MAX]) {
      expect(map.shardId(map.lookup(hashKeyWords(key), 0))).toBe(shardOwningHashKey(all, key)?.ShardId);
    }
  });

  it('drops the closed parent after a split', async () => {
    const streamName = uniqueStreamName('sm-split');
    await createStream(admin, streamName, 2);
    const before = await listOpenShards(client, { streamName });
    const parent = before.find((s) => s.startingHashKey === '0')!;
    const splitAt = (BigInt(parent.endingHashKey) / 3n).toString();
    await admin.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: parent.shardId, NewStartingHashKey: splitAt }));
    await waitForStreamActive(admin, streamName);

    const all = await listAllShards(admin, streamName);
    expect(all.some((s) => s.ShardId === parent.shardId && !isOpenShard(s))).toBe(true);
    const after = await listOpenShards(client, { streamName });
    expect(after.map((s) => s.shardId)).not.toContain(parent.shardId);
    expect(after).toHaveLength(3);

    const map = ShardMap.fromShards(after);
    for (const key of [0n, BigInt(splitAt) - 1n, BigInt(splitAt), BigInt(parent.endingHashKey), MAX]) {
      expect(map.shardId(map.lookup(hashKeyWords(key), 0))).toBe(shardOwningHashKey(all, key)?.ShardId);
    }
  });

  it('asks for AT_LATEST shards on the first page', async () => {
    const streamName = uniqueStreamName('sm-filter');
    await createStream(admin, streamName, 1);
    const observed = createKinesisClient({ ...CLIENT_OPTIONS, endpoint });
    try {
      const inputs = recordListShardsInputs(observed);
      await listOpenShards(observed, { streamName });
      expect(inputs).toEqual([{ StreamName: streamName, ShardFilter: { Type: 'AT_LATEST' }, MaxResults: 1000 }]);
    } finally {
      observed.destroy();
    }
  });

  it('coalesces concurrent refreshes into one load and keeps the map', async () => {
    const streamName = uniqueStreamName('sm-tracker');
    await createStream(admin, streamName, 3);
    const observed = createKinesisClient({ ...CLIENT_OPTIONS, endpoint });
    const tracker = new ShardMapTracker(observed, { streamName }, FAST_RETRY);
    try {
      const inputs = recordListShardsInputs(observed);
      expect(tracker.current).toBeUndefined();
      const first = tracker.refresh();
      const second = tracker.refresh();
      expect(second).toBe(first);
      const map = await first;
      expect(map.size).toBe(3);
      expect(tracker.current).toBe(map);
      expect(inputs).toHaveLength(1);
      const next = await tracker.refresh();
      expect(next).not.toBe(map);
      expect(inputs).toHaveLength(2);
    } finally {
      tracker.close();
      observed.destroy();
    }
  });

  it('rejects at once, with the SDK error and its code, when the stream does not exist', async () => {
    const observed = createKinesisClient({ ...CLIENT_OPTIONS, endpoint });
    const tracker = new ShardMapTracker(
      observed,
      { streamName: uniqueStreamName('sm-missing') },
      { minDelayMs: 60_000, maxDelayMs: 60_000 },
    );
    try {
      const inputs = recordListShardsInputs(observed);
      const error = await tracker.refresh().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('ResourceNotFoundException');
      expect(inputs).toHaveLength(1);
      expect(tracker.current).toBeUndefined();
    } finally {
      tracker.close();
      observed.destroy();
    }
  });

  it('retries throttled loads with backoff until one succeeds', async () => {
    const streamName = uniqueStreamName('sm-flaky');
    await createStream(admin, streamName, 2);
    const front = await startFlakyFront(endpoint, 3, 'LimitExceededException');
    const flaky = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: front.endpoint });
    const tracker = new ShardMapTracker(flaky, { streamName }, FAST_RETRY);
    try {
      const map = await tracker.refresh();
      expect(map.size).toBe(2);
      expect(front.requests()).toBe(4);
    } finally {
      tracker.close();
      flaky.destroy();
      await front.close();
    }
  });

  it('close() aborts a load that is still retrying, and refuses later refreshes', async () => {
    const front = await startFlakyFront(endpoint, Number.POSITIVE_INFINITY, 'InternalFailure');
    const flaky = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: front.endpoint });
    const tracker = new ShardMapTracker(flaky, { streamName: 'never-answered' }, FAST_RETRY);
    try {
      const pending = tracker.refresh();
      while (front.requests() < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      tracker.close();
      await expect(pending).rejects.toBeInstanceOf(ShardMapTrackerClosedError);
      await expect(tracker.refresh()).rejects.toBeInstanceOf(ShardMapTrackerClosedError);
    } finally {
      flaky.destroy();
      await front.close();
    }
  });
});

describe('listOpenShards on kinesis-local (pages, AT_LATEST, StreamARN)', () => {
  const local = useKinesisLocal((endpoint) => createKinesisClient({ ...CLIENT_OPTIONS, endpoint }));

  it('follows NextToken pages, sending only NextToken and MaxResults after the first', async () => {
    const streamName = uniqueStreamName('sm-pages');
    await createStream(local.admin, streamName, 7);
    const observed = createKinesisClient({ ...CLIENT_OPTIONS, endpoint: local.server.endpoint });
    try {
      const inputs = recordListShardsInputs(observed);
      const shards = await listOpenShards(observed, { streamName }, undefined, { maxResults: 2 });
      expect(shards).toHaveLength(7);
      expect(new Set(shards.map((s) => s.shardId)).size).toBe(7);
      expect(inputs).toHaveLength(4);
      expect(inputs[0]).toEqual({ StreamName: streamName, ShardFilter: { Type: 'AT_LATEST' }, MaxResults: 2 });
      for (const later of inputs.slice(1)) {
        expect(Object.keys(later).sort()).toEqual(['MaxResults', 'NextToken']);
      }
      // kinesis-local splits the key space unevenly: the map must still cover it without gaps.
      const map = ShardMap.fromShards(shards);
      for (const key of [0n, 1n << 64n, 1n << 127n, MAX]) expect(map.lookup(hashKeyWords(key), 0)).toBeGreaterThanOrEqual(0);
    } finally {
      observed.destroy();
    }
  });

  it('lists only open shards after a reshard, by StreamARN, across pages', async () => {
    const streamName = uniqueStreamName('sm-latest');
    await createStream(local.admin, streamName, 2);
    const summary = await local.admin.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const streamARN = summary.StreamDescriptionSummary!.StreamARN!;
    await local.admin.send(new UpdateShardCountCommand({ StreamName: streamName, TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' }));
    await waitForStreamActive(local.admin, streamName);

    const all = await listAllShards(local.admin, streamName);
    const open = all.filter(isOpenShard);
    expect(all.length).toBeGreaterThan(open.length);
    const shards = await listOpenShards(local.client, { streamARN }, undefined, { maxResults: 1 });
    expect(shards.map((s) => s.shardId).sort()).toEqual(open.map((s) => s.ShardId!).sort());

    const tracker = new ShardMapTracker(local.client, { streamARN }, FAST_RETRY);
    try {
      const map = await tracker.refresh();
      expect(map.size).toBe(open.length);
      for (const key of [0n, 1n << 126n, 1n << 127n, (1n << 127n) + (1n << 126n), MAX]) {
        expect(map.shardId(map.lookup(hashKeyWords(key), 0))).toBe(shardOwningHashKey(all, key)?.ShardId);
      }
    } finally {
      tracker.close();
    }
  });
});
