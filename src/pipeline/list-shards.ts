/**
 * ListShards paging: a stream's open shards and their hash key ranges, as the shard map is built
 * from them.
 */
import { ListShardsCommand, type KinesisClient, type ListShardsCommandInput, type Shard } from '@aws-sdk/client-kinesis';
import { streamParameters, type StreamRef } from './kinesis-client.js';
import type { ShardRange } from './shard-map.js';

/** Options of {@link listOpenShards}. */
export interface ListOpenShardsOptions {
  /** Shards per ListShards page, 1 to 10,000. @default 1000 */
  maxResults?: number | undefined;
}

const DEFAULT_LIST_SHARDS_PAGE = 1000;

/**
 * Lists the open shards of a stream with ListShards, following NextToken pages (a later page
 * carries only NextToken and MaxResults, as the API requires). Asks for open shards only with
 * ShardFilter AT_LATEST, and also drops any shard that has an ending sequence number, since some
 * servers (kinesalite) ignore the filter.
 */
export async function listOpenShards(
  client: KinesisClient,
  stream: StreamRef,
  signal?: AbortSignal,
  options: ListOpenShardsOptions = {},
): Promise<ShardRange[]> {
  const maxResults = options.maxResults ?? DEFAULT_LIST_SHARDS_PAGE;
  const shards: ShardRange[] = [];
  let input: ListShardsCommandInput = { ...streamParameters(stream), ShardFilter: { Type: 'AT_LATEST' }, MaxResults: maxResults };
  for (;;) {
    const page = await client.send(new ListShardsCommand(input), signal === undefined ? {} : { abortSignal: signal });
    for (const shard of page.Shards ?? []) {
      if (shard.SequenceNumberRange?.EndingSequenceNumber === undefined) shards.push(toShardRange(shard));
    }
    if (page.NextToken === undefined || page.NextToken === '') return shards;
    input = { NextToken: page.NextToken, MaxResults: maxResults };
  }
}

function toShardRange(shard: Shard): ShardRange {
  return {
    shardId: shard.ShardId ?? '',
    startingHashKey: shard.HashKeyRange?.StartingHashKey ?? '',
    endingHashKey: shard.HashKeyRange?.EndingHashKey ?? '',
  };
}
