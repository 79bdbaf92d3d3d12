import { describe, expect, it } from 'vitest';
import { CONFIG_RULES, resolveConfig } from '../../src/config.js';
import { ValidationError } from '../../src/records.js';

function rejection(config: unknown): ValidationError {
  try {
    resolveConfig(config as never);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('resolveConfig', () => {
  it('applies the KPL defaults', () => {
    const config = resolveConfig({ streamName: 's', region: 'eu-west-1' });
    expect(config).toMatchObject({
      stream: { streamName: 's' },
      region: 'eu-west-1',
      aggregationEnabled: true,
      aggregationMaxCount: 4294967295,
      aggregationMaxSize: 51200,
      collectionMaxCount: 500,
      collectionMaxSize: 5242880,
      recordMaxBufferedTime: 100,
      recordTtl: 30000,
      maxConnections: 24,
      requestTimeout: 6000,
      rateLimit: 150,
      failIfThrottled: false,
      compression: 'none',
      strictOrdering: false,
      http2: false,
      metricsLevel: 'detailed',
      metricsGranularity: 'shard',
      retry: { minDelayMs: 100, maxDelayMs: 5000 },
    });
  });

  it('needs a stream', () => {
    expect(rejection({ region: 'x' }).field).toBe('streamName');
  });

  it('rejects a misspelt option and suggests the right one', () => {
    const error = rejection({ streamName: 's', recordMaxBufferTime: 10 });
    expect(error.field).toBe('recordMaxBufferTime');
    expect(error.message).toContain('did you mean recordMaxBufferedTime?');
    expect(rejection({ streamName: 's', retry: { minDelay: 1 } }).message).toContain('did you mean retry.minDelayMs?');
  });

  it.each(
    Object.entries(CONFIG_RULES).filter(([, rule]) => rule.kind === 'number' || rule.kind === 'optionalNumber') as Array<
      [string, { min: number; max: number }]
    >,
  )('rejects %s outside its range, naming the limit', (field, rule) => {
    const below = rejection({ streamName: 's', [field]: rule.min - 1 });
    expect(below.field).toBe(field);
    expect(below.limit).toBe(rule.min);
    expect(below.message).toContain(rule.min.toLocaleString('en-US'));
    if (rule.max < Number.MAX_SAFE_INTEGER) expect(rejection({ streamName: 's', [field]: rule.max + 1 }).limit).toBe(rule.max);
    expect(rejection({ streamName: 's', [field]: 1.5 }).field).toBe(field);
    expect(rejection({ streamName: 's', [field]: '10' }).field).toBe(field);
  });

  it('leaves maxRecordSize unset unless given, and adaptiveRateLimit on', () => {
    const config = resolveConfig({ streamName: 's' });
    expect(config.maxRecordSize).toBeUndefined();
    expect(config.adaptiveRateLimit).toBe(true);
    expect(resolveConfig({ streamName: 's', maxRecordSize: 10 * 1024 * 1024, adaptiveRateLimit: false })).toMatchObject({
      maxRecordSize: 10_485_760,
      adaptiveRateLimit: false,
    });
    expect(rejection({ streamName: 's', maxRecordSize: 10 * 1024 * 1024 + 1 }).message).toContain('10,485,760');
  });

  it('rejects wrong kinds of values', () => {
    expect(rejection({ streamName: 's', aggregationEnabled: 'yes' }).field).toBe('aggregationEnabled');
    expect(rejection({ streamName: 's', compression: 'gzip' }).message).toContain("'none', 'lz4'");
    expect(rejection({ streamName: 's', endpoint: 'not a url' }).field).toBe('endpoint');
    expect(rejection({ streamName: 's', endpoint: 'ftp://host' }).field).toBe('endpoint');
    expect(rejection({ streamName: 's', endpoint: 'https://user:secret@host' }).message).not.toContain('secret');
    expect(rejection({ streamName: 's', endpoint: 'http://user:s3cr3t@bad host:1' }).message).not.toContain('s3cr3t');
    expect(rejection({ streamName: 's', retry: { minDelayMs: 500, maxDelayMs: 100 } }).field).toBe('retry.maxDelayMs');
    expect(rejection(null).field).toBe('config');
    expect(rejection(null).code).toBe('KPL_CONFIG_INVALID');
  });

  it('defaults the region for an explicit endpoint only', () => {
    const saved = { region: process.env['AWS_REGION'], defaultRegion: process.env['AWS_DEFAULT_REGION'] };
    delete process.env['AWS_REGION'];
    delete process.env['AWS_DEFAULT_REGION'];
    try {
      expect(resolveConfig({ streamName: 's', endpoint: 'http://127.0.0.1:1' }).region).toBe('us-east-1');
      expect(resolveConfig({ streamName: 's' }).region).toBeUndefined();
    } finally {
      if (saved.region !== undefined) process.env['AWS_REGION'] = saved.region;
      if (saved.defaultRegion !== undefined) process.env['AWS_DEFAULT_REGION'] = saved.defaultRegion;
    }
  });

  it('turns aggregation off as one record per aggregate', () => {
    expect(resolveConfig({ streamName: 's', aggregationEnabled: false }).aggregationMaxCount).toBe(1);
  });
});
