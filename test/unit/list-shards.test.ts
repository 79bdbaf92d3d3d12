import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listOpenShards } from '../../src/pipeline/list-shards.js';

const MAX = '340282366920938463463374607431768211455';

interface Page {
  readonly Shards: Array<{
    ShardId: string;
    HashKeyRange: { StartingHashKey: string; EndingHashKey: string };
    SequenceNumberRange: object;
  }>;
  readonly NextToken?: string;
}

function shard(id: string, start: string, end: string, closed = false) {
  return {
    ShardId: id,
    HashKeyRange: { StartingHashKey: start, EndingHashKey: end },
    SequenceNumberRange: closed ? { StartingSequenceNumber: '0', EndingSequenceNumber: '9' } : { StartingSequenceNumber: '0' },
  };
}

/** A client that answers ListShards with `pages` in turn and keeps each request's input. */
function pagedClient(pages: Page[]): { client: KinesisClient; inputs: unknown[] } {
  const inputs: unknown[] = [];
  const client = {
    send: (command: { input: unknown }) => {
      inputs.push(command.input);
      return Promise.resolve(pages[inputs.length - 1]);
    },
  } as unknown as KinesisClient;
  return { client, inputs };
}

describe('listOpenShards', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('follows NextToken pages, asking later pages with only NextToken and MaxResults', async () => {
    const { client, inputs } = pagedClient([
      { Shards: [shard('shardId-0', '0', '99')], NextToken: 'next' },
      { Shards: [shard('shardId-1', '100', MAX)] },
    ]);
    const shards = await listOpenShards(client, { streamName: 's' }, undefined, { maxResults: 1 });
    expect(shards).toEqual([
      { shardId: 'shardId-0', startingHashKey: '0', endingHashKey: '99' },
      { shardId: 'shardId-1', startingHashKey: '100', endingHashKey: MAX },
    ]);
    expect(inputs).toEqual([
      { StreamName: 's', ShardFilter: { Type: 'AT_LATEST' }, MaxResults: 1 },
      { NextToken: 'next', MaxResults: 1 },
    ]);
  });

  it('drops closed shards even when the server ignores the filter', async () => {
    const { client, inputs } = pagedClient([{ Shards: [shard('shardId-0', '0', MAX, true), shard('shardId-1', '0', MAX)], NextToken: '' }]);
    expect((await listOpenShards(client, { streamARN: 'arn:aws:kinesis:us-east-1:1:stream/s' })).map((s) => s.shardId)).toEqual([
      'shardId-1',
    ]);
    expect(inputs).toEqual([{ StreamARN: 'arn:aws:kinesis:us-east-1:1:stream/s', ShardFilter: { Type: 'AT_LATEST' }, MaxResults: 1000 }]);
  });
});
