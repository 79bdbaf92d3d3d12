import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { SHARD_MAX_BYTES_PER_SECOND, SHARD_MAX_RECORDS_PER_SECOND } from '../../src/format/limits.js';
import { BufferPool } from '../../src/pipeline/buffer-pool.js';
import {
  aggregatorOptions,
  bufferPoolOptions,
  collectorOptions,
  expiryMarginMs,
  limiterOptions,
  MAX_FREE_BUFFER_BYTES,
  retrierOptions,
  senderOptions,
} from '../../src/pipeline/stage-options.js';

const base = { region: 'us-east-1', streamName: 'stream-a' };

describe('stage options', () => {
  it('gives the limiter rateLimit % of the per-shard limits, and adaptive shards the lower of the limit and rateLimit %', () => {
    const plain = limiterOptions(resolveConfig({ ...base, rateLimit: 150, adaptiveRateLimit: false }));
    expect(plain).toEqual({
      recordsPerSecond: SHARD_MAX_RECORDS_PER_SECOND * 1.5,
      bytesPerSecond: SHARD_MAX_BYTES_PER_SECOND * 1.5,
      adaptive: undefined,
    });
    expect(limiterOptions(resolveConfig({ ...base, rateLimit: 200, adaptiveRateLimit: true })).adaptive).toEqual({ initialRatio: 0.5 });
    expect(limiterOptions(resolveConfig({ ...base, rateLimit: 50, adaptiveRateLimit: true })).adaptive).toEqual({ initialRatio: 1 });
  });

  it('keeps at most 32 MiB of free buffers, and never more than maxOutstandingBytes', () => {
    expect(bufferPoolOptions(resolveConfig({ ...base, maxOutstandingBytes: 1024 * 1024 * 1024 })).maxFreeBytes).toBe(MAX_FREE_BUFFER_BYTES);
    expect(bufferPoolOptions(resolveConfig({ ...base, maxOutstandingBytes: 4 * 1024 * 1024 })).maxFreeBytes).toBe(4 * 1024 * 1024);
  });

  it('gives the shard gate a linger of margin, or a quarter of recordTtl when that is shorter', () => {
    expect(expiryMarginMs(resolveConfig({ ...base, recordMaxBufferedTime: 100, recordTtl: 30_000 }))).toBe(100);
    expect(expiryMarginMs(resolveConfig({ ...base, recordMaxBufferedTime: 5_000, recordTtl: 8_000 }))).toBe(2_000);
  });

  it('passes the size, count, linger, connection and retry options to their stages', () => {
    const config = resolveConfig({
      ...base,
      aggregationMaxCount: 10,
      aggregationMaxSize: 20_000,
      collectionMaxCount: 50,
      collectionMaxSize: 100_000,
      recordMaxBufferedTime: 250,
      maxConnections: 3,
      requestTimeout: 4_000,
      failIfThrottled: true,
    });
    const buffers = new BufferPool({ maxFreeBytes: 1024 });
    const hashKeyOf = (): void => undefined;
    expect(aggregatorOptions(config, buffers, hashKeyOf)).toMatchObject({ maxCount: 10, maxSize: 20_000, lingerMs: 250, hashKeyOf });
    expect(aggregatorOptions(config, buffers, hashKeyOf).allocate?.(5_000).length).toBeGreaterThanOrEqual(5_000);
    expect(collectorOptions(config)).toEqual({ maxCount: 50, maxSize: 100_000, lingerMs: 250 });
    expect(senderOptions(config, buffers)).toEqual({ maxConnections: 3, requestTimeout: 4_000, buffers });
    expect(retrierOptions(config)).toEqual({ ...config.retry, failIfThrottled: true });
  });
});
