/**
 * Each stage's options, derived from the producer's resolved config in one place, so that the
 * wiring in stream-pipeline.ts only connects stages and a rule such as "adaptive shards start at
 * the service's limits" has a name and a test of its own.
 */
import type { ResolvedConfig } from '../config.js';
import { SHARD_MAX_BYTES_PER_SECOND, SHARD_MAX_RECORDS_PER_SECOND } from '../format/limits.js';
import type { PendingRecord } from '../pending-record.js';
import type { AggregatorOptions } from './aggregator.js';
import type { BufferPool, BufferPoolOptions } from './buffer-pool.js';
import type { CollectorOptions } from './collector.js';
import type { ShardRateLimiterOptions } from './limiter-options.js';
import type { RetryPolicyOptions } from './retrier.js';
import type { SenderOptions } from './sender.js';

/**
 * Free aggregate and request-body buffers a stream keeps at most: a few 5 MiB bodies and a
 * request's worth of 51,200-byte aggregates, which is what one request's turnover needs. Never more
 * than maxOutstandingBytes, so that a producer configured to hold little holds little when idle.
 */
export const MAX_FREE_BUFFER_BYTES = 32 * 1024 * 1024;

/** The stream's pool of aggregate and request-body buffers. */
export function bufferPoolOptions(config: ResolvedConfig): BufferPoolOptions {
  return { maxFreeBytes: Math.min(MAX_FREE_BUFFER_BYTES, config.maxOutstandingBytes) };
}

/** The aggregator: KPL aggregates of at most aggregationMaxCount records and aggregationMaxSize bytes, closed after the linger. */
export function aggregatorOptions(
  config: ResolvedConfig,
  buffers: BufferPool,
  hashKeyOf: (item: PendingRecord, out: Uint32Array, offset: number) => void,
): AggregatorOptions<PendingRecord> {
  return {
    maxCount: config.aggregationMaxCount,
    maxSize: config.aggregationMaxSize,
    lingerMs: config.recordMaxBufferedTime,
    compression: config.compression,
    allocate: (size) => buffers.acquire(size),
    hashKeyOf,
  };
}

/** The per-shard limiter: rateLimit % of the service's per-shard limits. */
export function limiterOptions(config: ResolvedConfig): ShardRateLimiterOptions {
  return {
    recordsPerSecond: (SHARD_MAX_RECORDS_PER_SECOND * config.rateLimit) / 100,
    bytesPerSecond: (SHARD_MAX_BYTES_PER_SECOND * config.rateLimit) / 100,
    // Adaptive shards start at the service's limits, or at rateLimit % where that is lower.
    adaptive: config.adaptiveRateLimit ? { initialRatio: Math.min(1, 100 / config.rateLimit) } : undefined,
  };
}

/**
 * How long before its deadline the shard gate gives up an aggregate it holds. An aggregate let
 * through waits at most a linger in the collector; a quarter of recordTtl keeps records alive when
 * the linger is set longer than their TTL.
 */
export function expiryMarginMs(config: ResolvedConfig): number {
  return Math.min(config.recordMaxBufferedTime, config.recordTtl / 4);
}

/** The collector: PutRecords batches of at most collectionMaxCount records and collectionMaxSize bytes. */
export function collectorOptions(config: ResolvedConfig): CollectorOptions {
  return { maxCount: config.collectionMaxCount, maxSize: config.collectionMaxSize, lingerMs: config.recordMaxBufferedTime };
}

/** The sender: at most maxConnections requests in flight, each cut off after requestTimeout. */
export function senderOptions(config: ResolvedConfig, buffers: BufferPool): SenderOptions {
  return { maxConnections: config.maxConnections, requestTimeout: config.requestTimeout, buffers };
}

/** The retry policy: the retry option's backoff, and whether throttling fails a record at once. */
export function retrierOptions(config: ResolvedConfig): RetryPolicyOptions {
  return { ...config.retry, failIfThrottled: config.failIfThrottled };
}
