/**
 * Waiting for the shard map: the records that came before the first map, or whose hash key no shard
 * of the current map holds, wait here while the tracker loads the map. Each expires at its
 * deadline; a load that fails for good fails them all with its error.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { describeKinesisError, type StreamRef } from './kinesis-client.js';
import type { ShardMap } from './shard-map.js';
import { ShardMapTracker, type ShardMapTrackerOptions } from './shard-map-tracker.js';

/** Where the records that waited go. */
export interface ShardMapWaitSink<T> {
  /**
   * A load succeeded (the tracker's current map is `map` already): `waiting` are the records that
   * waited for it, in arrival order.
   */
  loaded(map: ShardMap, previous: ShardMap | undefined, waiting: T[]): void;
  /** The map could not be loaded: a failure no retry fixes. `items` may be empty. */
  failed(items: T[], errorCode: string, errorMessage: string): void;
  /** Records whose deadline passed while they waited. */
  expired(items: T[]): void;
}

/** Options of a {@link ShardMapWait}. */
export interface ShardMapWaitOptions<T> {
  /** The backoff of failed loads; its minDelayMs also spaces reloads asked for by {@link ShardMapWait.refresh}. */
  readonly retry: Pick<ShardMapTrackerOptions, 'minDelayMs' | 'maxDelayMs'>;
  /** A record's deadline (ms, on this stage's clock). */
  readonly deadlineOf: (item: T) => number;
}

/** The shard map of one stream, and the records waiting for it. */
export class ShardMapWait<T> {
  readonly #tracker: ShardMapTracker;
  readonly #sink: ShardMapWaitSink<T>;
  readonly #deadlineOf: (item: T) => number;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  #waiting: T[] = [];
  #expiryTimer: NodeJS.Timeout | undefined;
  #expiryAt = Infinity;
  #reloadTimer: NodeJS.Timeout | undefined;
  #lastLoadAt = -Infinity;
  #closed = false;

  /** @param now a monotonic clock in ms, the records' clock; replace it in tests that fake time. */
  constructor(
    client: KinesisClient,
    stream: StreamRef,
    options: ShardMapWaitOptions<T>,
    sink: ShardMapWaitSink<T>,
    now: () => number = () => performance.now(),
  ) {
    this.#sink = sink;
    this.#deadlineOf = options.deadlineOf;
    this.#minIntervalMs = options.retry.minDelayMs;
    this.#now = now;
    this.#tracker = new ShardMapTracker(client, stream, { ...options.retry, onLoaded: this.#onLoaded });
  }

  /** The current map, or undefined before the first load succeeds. */
  get map(): ShardMap | undefined {
    return this.#tracker.current;
  }

  /** Records waiting. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Holds `item` until a map loads, and starts a load if none runs. */
  wait(item: T): void {
    this.#waiting.push(item);
    this.load();
    const deadline = this.#deadlineOf(item);
    if (deadline < this.#expiryAt) this.#armExpiry(deadline);
  }

  /** Starts a load unless one runs. */
  load(): void {
    if (this.#closed || this.#tracker.loading) return;
    this.#lastLoadAt = this.#now();
    this.#tracker.refresh().then(undefined, this.#onLoadFailed);
  }

  /** Reloads the map because it may be stale: at once, or once minDelayMs has passed since the last load. */
  refresh(): void {
    if (this.#closed || this.#reloadTimer !== undefined) return;
    const wait = this.#lastLoadAt + this.#minIntervalMs - this.#now();
    if (wait <= 0) {
      this.load();
      return;
    }
    this.#reloadTimer = setTimeout(() => {
      this.#reloadTimer = undefined;
      this.load();
    }, Math.ceil(wait));
  }

  /** Stops loading and returns the records still waiting. */
  close(): T[] {
    this.#closed = true;
    this.#tracker.close();
    for (const timer of [this.#expiryTimer, this.#reloadTimer]) if (timer !== undefined) clearTimeout(timer);
    this.#expiryTimer = this.#reloadTimer = undefined;
    return this.#takeWaiting();
  }

  #takeWaiting(): T[] {
    const waiting = this.#waiting;
    this.#waiting = [];
    if (this.#expiryTimer !== undefined) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#expiryAt = Infinity;
    return waiting;
  }

  readonly #onLoaded = (map: ShardMap, previous: ShardMap | undefined): void => {
    if (this.#closed) return;
    this.#sink.loaded(map, previous, this.#takeWaiting());
  };

  readonly #onLoadFailed = (error: unknown): void => {
    if (this.#closed) return;
    const { errorCode, errorMessage } = describeKinesisError(error);
    this.#sink.failed(this.#takeWaiting(), errorCode, errorMessage);
  };

  #armExpiry(at: number): void {
    if (this.#closed) return;
    if (this.#expiryTimer !== undefined) clearTimeout(this.#expiryTimer);
    this.#expiryAt = at;
    this.#expiryTimer = setTimeout(this.#expire, Math.max(1, Math.ceil(at - this.#now())));
  }

  readonly #expire = (): void => {
    this.#expiryTimer = undefined;
    this.#expiryAt = Infinity;
    const now = this.#now();
    const expired: T[] = [];
    const keep: T[] = [];
    let next = Infinity;
    for (const item of this.#waiting) {
      const deadline = this.#deadlineOf(item);
      if (deadline <= now) expired.push(item);
      else {
        keep.push(item);
        next = Math.min(next, deadline);
      }
    }
    this.#waiting = keep;
    if (next !== Infinity) this.#armExpiry(next);
    if (expired.length > 0) this.#sink.expired(expired);
  };
}
