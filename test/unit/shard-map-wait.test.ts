import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ShardMap } from '../../src/pipeline/shard-map.js';
import { ShardMapWait } from '../../src/pipeline/shard-map-wait.js';

interface Item {
  readonly id: number;
  readonly deadline: number;
}

const HALF = '170141183460469231731687303715884105727';
const MAX = '340282366920938463463374607431768211455';

/** A client whose ListShards answers are scripted: each call takes the next answer, an error or a shard list. */
function scriptedClient(answers: Array<Error | Array<[string, string, string]>>): { client: KinesisClient; calls: () => number } {
  let calls = 0;
  const client = {
    send: () => {
      const answer = answers[Math.min(calls++, answers.length - 1)] as Error | Array<[string, string, string]>;
      if (answer instanceof Error) return Promise.reject(answer);
      return Promise.resolve({
        Shards: answer.map(([ShardId, StartingHashKey, EndingHashKey]) => ({
          ShardId,
          HashKeyRange: { StartingHashKey, EndingHashKey },
          SequenceNumberRange: { StartingSequenceNumber: '0' },
        })),
      });
    },
  } as unknown as KinesisClient;
  return { client, calls: () => calls };
}

function setup(answers: Array<Error | Array<[string, string, string]>>) {
  const { client, calls } = scriptedClient(answers);
  const loaded: Array<{ size: number; previous: number | undefined; waiting: number[] }> = [];
  const failed: Array<{ ids: number[]; errorCode: string }> = [];
  const expired: number[] = [];
  const wait = new ShardMapWait<Item>(
    client,
    { streamName: 's' },
    { retry: { minDelayMs: 100, maxDelayMs: 100 }, deadlineOf: (item) => item.deadline },
    {
      loaded: (map: ShardMap, previous: ShardMap | undefined, waiting) =>
        loaded.push({ size: map.size, previous: previous?.size, waiting: waiting.map((item) => item.id) }),
      failed: (items, errorCode) => failed.push({ ids: items.map((item) => item.id), errorCode }),
      expired: (items) => expired.push(...items.map((item) => item.id)),
    },
    () => Date.now(),
  );
  return { wait, loaded, failed, expired, calls };
}

const ONE_SHARD: Array<[string, string, string]> = [['shardId-0', '0', MAX]];
const TWO_SHARDS: Array<[string, string, string]> = [
  ['shardId-1', '0', HALF],
  ['shardId-2', String(BigInt(HALF) + 1n), MAX],
];

describe('ShardMapWait', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds records until the first map loads, then hands them over in arrival order with the map current', async () => {
    const { wait, loaded } = setup([ONE_SHARD]);
    wait.wait({ id: 1, deadline: 60_000 });
    wait.wait({ id: 2, deadline: 60_000 });
    expect(wait.map).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(loaded).toEqual([{ size: 1, previous: undefined, waiting: [1, 2] }]);
    expect(wait.map?.size).toBe(1);
    expect(wait.size).toBe(0);
  });

  it('expires a waiting record at its deadline while the map cannot be loaded', async () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'LimitExceededException' });
    const { wait, expired, loaded } = setup([throttled]);
    wait.wait({ id: 1, deadline: 1_300 });
    wait.wait({ id: 2, deadline: 1_900 });
    await vi.advanceTimersByTimeAsync(299);
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(expired).toEqual([1]);
    await vi.advanceTimersByTimeAsync(600);
    expect(expired).toEqual([1, 2]);
    expect(loaded).toEqual([]);
    wait.close();
  });

  it('fails the waiting records with the error of a load no retry fixes', async () => {
    const missing = Object.assign(new Error('Stream s not found'), { name: 'ResourceNotFoundException' });
    const { wait, failed } = setup([missing]);
    wait.wait({ id: 1, deadline: 60_000 });
    await vi.advanceTimersByTimeAsync(1);
    expect(failed).toEqual([{ ids: [1], errorCode: 'ResourceNotFoundException' }]);
  });

  it('refresh() reloads at once, or minDelayMs after the last load, never more often', async () => {
    const { wait, loaded, calls } = setup([ONE_SHARD, TWO_SHARDS]);
    wait.load();
    await vi.advanceTimersByTimeAsync(1);
    expect(calls()).toBe(1);
    wait.refresh();
    wait.refresh();
    await vi.advanceTimersByTimeAsync(50);
    expect(calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(60);
    expect(calls()).toBe(2);
    expect(loaded.map((load) => [load.size, load.previous])).toEqual([
      [1, undefined],
      [2, 1],
    ]);
  });

  it('close() returns the records still waiting and stops loading', async () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'LimitExceededException' });
    const { wait, expired } = setup([throttled]);
    wait.wait({ id: 1, deadline: 60_000 });
    expect(wait.close().map((item) => item.id)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(expired).toEqual([]);
  });
});
