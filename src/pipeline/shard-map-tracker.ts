/**
 * Keeps a stream's shard map current: loads it with ListShards, retrying what a retry can fix,
 * and shares one load among concurrent refreshes.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import pRetry from 'p-retry';
import { describeKinesisError, isUnretryableErrorCode, PRODUCER_CLOSED_ERROR_CODE, type StreamRef } from './kinesis-client.js';
import { listOpenShards } from './list-shards.js';
import { ShardMap } from './shard-map.js';

/** Options of a {@link ShardMapTracker}. */
export interface ShardMapTrackerOptions {
  /** Lowest delay before retrying a failed load, in ms. */
  minDelayMs: number;
  /** Highest delay before retrying a failed load, in ms. */
  maxDelayMs: number;
  /**
   * Called as soon as a load succeeds, before refresh() resolves and in the same turn as
   * {@link ShardMapTracker.current} changes, so that nothing predicts with the new map before the
   * caller has re-predicted what the old one predicted.
   */
  onLoaded?: ((map: ShardMap, previous: ShardMap | undefined) => void) | undefined;
}

/** Why {@link ShardMapTracker.refresh} rejects after {@link ShardMapTracker.close}. */
export class ShardMapTrackerClosedError extends Error {
  override readonly name = 'ShardMapTrackerClosedError';
  /** A stable code, like the Kinesis error codes the tracker passes on. */
  readonly code = PRODUCER_CLOSED_ERROR_CODE;

  constructor() {
    super('the shard map tracker is closed; no further shard map loads');
  }
}

/**
 * Holds the current shard map of one stream and reloads it on request.
 *
 * Concurrent refresh() calls share one load. A load retries retryable errors (throttling,
 * network errors, a listing torn by a concurrent reshard) with exponential backoff and jitter from
 * minDelayMs to maxDelayMs, until it succeeds or the tracker closes; errors that no retry fixes
 * (a stream that does not exist, access denied, validation errors, bad credentials) reject at once
 * with the SDK's error, so its code reaches the records that waited.
 */
export class ShardMapTracker {
  readonly #client: KinesisClient;
  readonly #stream: StreamRef;
  readonly #options: ShardMapTrackerOptions;
  readonly #closing = new AbortController();
  #current: ShardMap | undefined;
  #loading: Promise<ShardMap> | undefined;

  constructor(client: KinesisClient, stream: StreamRef, options: ShardMapTrackerOptions) {
    this.#client = client;
    this.#stream = stream;
    this.#options = options;
  }

  /** The last map loaded, or undefined before the first load succeeds. */
  get current(): ShardMap | undefined {
    return this.#current;
  }

  /** True while a load runs. */
  get loading(): boolean {
    return this.#loading !== undefined;
  }

  /** Loads the stream's open shards into a new map; a call while a load runs joins that load. */
  refresh(): Promise<ShardMap> {
    if (this.#closing.signal.aborted) return Promise.reject(new ShardMapTrackerClosedError());
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** Aborts a pending load (its refresh() calls reject) and refuses further refreshes. */
  close(): void {
    this.#closing.abort(new ShardMapTrackerClosedError());
  }

  async #load(): Promise<ShardMap> {
    const signal = this.#closing.signal;
    const map = await pRetry(
      async () => {
        const shards = await listOpenShards(this.#client, this.#stream, signal);
        // A stream always has an open shard; none means the listing raced a reshard: list again.
        if (shards.length === 0) throw new Error(`ListShards returned no open shard for ${describeStream(this.#stream)}`);
        return ShardMap.fromShards(shards);
      },
      {
        retries: Number.POSITIVE_INFINITY,
        factor: 2,
        minTimeout: this.#options.minDelayMs,
        maxTimeout: this.#options.maxDelayMs,
        randomize: true,
        signal,
        shouldRetry: ({ error }) => !signal.aborted && !isUnretryableErrorCode(describeKinesisError(error).errorCode),
      },
    ).catch((error: unknown) => {
      throw signal.aborted ? signal.reason : error;
    });
    const previous = this.#current;
    this.#current = map;
    this.#options.onLoaded?.(map, previous);
    return map;
  }
}

function describeStream(stream: StreamRef): string {
  return stream.streamARN ?? `stream ${stream.streamName ?? '(unnamed)'}`;
}
