import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ShardMap } from '../../src/pipeline/shard-map.js';
import { ShardMapTracker, ShardMapTrackerClosedError } from '../../src/pipeline/shard-map-tracker.js';

const MAX = '340282366920938463463374607431768211455';

/** A client whose ListShards answers are scripted: an error, an empty listing, or one open shard. */
function scriptedClient(answers: Array<Error | 'empty' | 'one'>): { client: KinesisClient; calls: () => number } {
  let calls = 0;
  const client = {
    send: () => {
      const answer = answers[Math.min(calls++, answers.length - 1)];
      if (answer instanceof Error) return Promise.reject(answer);
      const shards =
        answer === 'empty'
          ? []
          : [{ ShardId: 'shardId-0', HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX }, SequenceNumberRange: {} }];
      return Promise.resolve({ Shards: shards });
    },
  } as unknown as KinesisClient;
  return { client, calls: () => calls };
}

function coded(name: string): Error {
  return Object.assign(new Error(name), { name });
}

describe('ShardMapTracker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shares one load among concurrent refreshes and tells onLoaded before they resolve', async () => {
    const { client, calls } = scriptedClient(['one']);
    const loaded: Array<[number, ShardMap | undefined]> = [];
    const tracker = new ShardMapTracker(
      client,
      { streamName: 's' },
      { minDelayMs: 10, maxDelayMs: 10, onLoaded: (map, previous) => loaded.push([map.size, previous]) },
    );
    const first = tracker.refresh();
    const second = tracker.refresh();
    expect(tracker.loading).toBe(true);
    const map = await first;
    expect(await second).toBe(map);
    expect(calls()).toBe(1);
    expect(loaded).toEqual([[1, undefined]]);
    expect(tracker.current).toBe(map);
    expect(tracker.loading).toBe(false);
  });

  it('retries a throttled or empty listing with backoff, and rejects at once what no retry fixes', async () => {
    const retried = scriptedClient([coded('LimitExceededException'), 'empty', 'one']);
    const tracker = new ShardMapTracker(retried.client, { streamName: 's' }, { minDelayMs: 100, maxDelayMs: 100 });
    const refresh = tracker.refresh();
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await refresh).size).toBe(1);
    expect(retried.calls()).toBe(3);

    const missing = scriptedClient([coded('ResourceNotFoundException')]);
    const failing = new ShardMapTracker(missing.client, { streamName: 's' }, { minDelayMs: 100, maxDelayMs: 100 });
    await expect(failing.refresh()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(missing.calls()).toBe(1);
  });

  it('after close rejects the pending load and every later refresh', async () => {
    const { client } = scriptedClient([coded('LimitExceededException')]);
    const tracker = new ShardMapTracker(client, { streamName: 's' }, { minDelayMs: 1_000, maxDelayMs: 1_000 });
    const pending = tracker.refresh();
    const rejected = expect(pending).rejects.toBeInstanceOf(ShardMapTrackerClosedError);
    await vi.advanceTimersByTimeAsync(10);
    tracker.close();
    await rejected;
    await expect(tracker.refresh()).rejects.toMatchObject({ code: 'ProducerClosed' });
  });
});
