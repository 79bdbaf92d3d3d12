import { ShardMap, type ShardRange } from './shard-map.js';
import type { Upstream } from './upstream.js';

/** A shard as ListShards describes it. */
export interface ListedShard {
  ShardId: string;
  ParentShardId?: string;
  AdjacentParentShardId?: string;
  HashKeyRange: { StartingHashKey: string; EndingHashKey: string };
  SequenceNumberRange: { StartingSequenceNumber: string; EndingSequenceNumber?: string };
}

/** Every shard of a stream, open and closed, or the upstream's error answer. */
export type ShardListing =
  { readonly found: true; readonly shards: ListedShard[] } | { readonly found: false; readonly status: number; readonly body: Buffer };

/** Reads a stream's shards from kinesalite, which answers in one page. */
export async function listShards(upstream: Upstream, streamName: string): Promise<ShardListing> {
  const answer = await upstream.call('ListShards', { StreamName: streamName });
  if (answer.status !== 200) return { found: false, status: answer.status, body: answer.body };
  const { Shards } = JSON.parse(answer.body.toString('utf8')) as { Shards: ListedShard[] };
  return { found: true, shards: Shards };
}

/**
 * Each stream's open-shard map, read once and kept until {@link invalidate}: after a reshard, or
 * when kinesalite put a record on another shard than the map predicted.
 */
export class ShardMapCache {
  readonly #upstream: Upstream;
  readonly #maps = new Map<string, Promise<ShardMap | undefined>>();

  constructor(upstream: Upstream) {
    this.#upstream = upstream;
  }

  /** The stream's map, or undefined if the stream does not exist. */
  get(streamName: string): Promise<ShardMap | undefined> {
    let map = this.#maps.get(streamName);
    if (map === undefined) {
      map = this.#load(streamName);
      this.#maps.set(streamName, map);
      const loading = map;
      const forget = (): void => {
        if (this.#maps.get(streamName) === loading) this.#maps.delete(streamName);
      };
      // A missing stream may be created later, and a failed read may succeed later: keep neither.
      loading.then((loaded) => loaded === undefined && forget(), forget);
    }
    return map;
  }

  invalidate(streamName: string): void {
    this.#maps.delete(streamName);
  }

  async #load(streamName: string): Promise<ShardMap | undefined> {
    const listing = await listShards(this.#upstream, streamName);
    if (!listing.found) return undefined;
    const open: ShardRange[] = listing.shards
      .filter((shard) => shard.SequenceNumberRange.EndingSequenceNumber === undefined)
      .map((shard) => ({
        shardId: shard.ShardId,
        startingHashKey: BigInt(shard.HashKeyRange.StartingHashKey),
        endingHashKey: BigInt(shard.HashKeyRange.EndingHashKey),
      }));
    return new ShardMap(open);
  }
}
