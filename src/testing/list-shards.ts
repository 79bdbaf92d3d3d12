import type { ListedShard } from './shard-maps.js';

/** A ListShards request as the service takes it. */
export interface ListShardsInput {
  StreamName?: string;
  NextToken?: string;
  MaxResults?: number;
  ExclusiveStartShardId?: string;
  ShardFilter?: { Type?: string; ShardId?: string };
}

/** Where a NextToken resumes: kinesalite has no paging, so the proxy keeps it in the token. */
interface PageCursor {
  readonly streamName: string;
  readonly offset: number;
  readonly filter: ShardSelection;
}

interface ShardSelection {
  readonly openOnly: boolean;
  readonly afterShardId?: string;
}

const DEFAULT_MAX_RESULTS = 1000;
const MAX_MAX_RESULTS = 10_000;

/** A ListShards answer, or an InvalidArgumentException message. */
export type ListShardsPage =
  { readonly ok: true; readonly body: { Shards: ListedShard[]; NextToken?: string } } | { readonly ok: false; readonly message: string };

/** Reads where to start: the stream and filter come from the request, or from its NextToken. */
export function listShardsCursor(input: ListShardsInput): PageCursor | string {
  if (input.NextToken !== undefined) {
    if (input.StreamName !== undefined) return 'NextToken and StreamName cannot be provided together.';
    const cursor = decodeToken(input.NextToken);
    return cursor ?? `NextToken ${input.NextToken} is not valid.`;
  }
  if (input.StreamName === undefined) return 'Either NextToken or StreamName should be provided.';
  const filter = input.ShardFilter;
  const afterShardId = filter?.Type === 'AFTER_SHARD_ID' ? filter.ShardId : input.ExclusiveStartShardId;
  return {
    streamName: input.StreamName,
    offset: 0,
    filter: { openOnly: filter?.Type === 'AT_LATEST', ...(afterShardId === undefined ? {} : { afterShardId }) },
  };
}

/**
 * One page of shards, honouring MaxResults, NextToken and ShardFilter (AT_LATEST: open shards only;
 * AFTER_SHARD_ID: shards after it; the other types: every shard) as the service does.
 */
export function listShardsPage(shards: readonly ListedShard[], cursor: PageCursor, maxResults: unknown): ListShardsPage {
  const limit = maxResults ?? DEFAULT_MAX_RESULTS;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_MAX_RESULTS) {
    return { ok: false, message: `MaxResults must be an integer from 1 to ${MAX_MAX_RESULTS}, got ${JSON.stringify(limit)}.` };
  }
  const { openOnly, afterShardId } = cursor.filter;
  const selected = shards.filter(
    (shard) =>
      (!openOnly || shard.SequenceNumberRange.EndingSequenceNumber === undefined) &&
      (afterShardId === undefined || shard.ShardId > afterShardId),
  );
  const end = cursor.offset + limit;
  const page = selected.slice(cursor.offset, end);
  return {
    ok: true,
    body: end < selected.length ? { Shards: page, NextToken: encodeToken({ ...cursor, offset: end }) } : { Shards: page },
  };
}

function encodeToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeToken(token: string): PageCursor | undefined {
  try {
    const cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageCursor;
    return typeof cursor.streamName === 'string' && Number.isInteger(cursor.offset) && typeof cursor.filter === 'object'
      ? cursor
      : undefined;
  } catch {
    return undefined;
  }
}
