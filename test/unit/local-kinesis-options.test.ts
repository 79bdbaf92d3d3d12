import { describe, expect, it } from 'vitest';
import {
  checkMaxRecordSize,
  checkStreamSpec,
  isMaxRecordSize,
  resolveLocalKinesisOptions,
} from '../../src/testing/local-kinesis-options.js';

describe('resolveLocalKinesisOptions', () => {
  it('fills in the defaults', () => {
    const resolved = resolveLocalKinesisOptions({ seed: 7 });
    expect(resolved).toMatchObject({ port: 0, host: '127.0.0.1', seed: 7, streams: [], transitionMs: 0, shardLimit: 10_000 });
    expect(resolved.limits).toMatchObject({ recordsPerSecond: 1000 });
    expect(resolveLocalKinesisOptions({ limits: false }).limits).toBe(false);
  });

  it.each([
    [{ colour: 'red' }, 'LocalKinesis option colour is unknown; expected one of port, host'],
    [{ port: 70_000 }, 'port must be an integer from 0 to 65535, got 70000'],
    [{ seed: 1.5 }, 'seed must be an integer, got 1.5'],
    [{ transitionMs: -1 }, 'transitionMs must be milliseconds from 0 up, got -1'],
    [{ shardLimit: 0 }, 'shardLimit must be an integer from 1 up, got 0'],
    [{ streams: [{ name: 'a b', shards: 1 }] }, 'stream name must be 1 to 128 of a-z A-Z 0-9 _ . -, got "a b"'],
    [
      { streams: [{ name: 's', shards: 1, maxRecordSizeInKiB: 512 }] },
      'maxRecordSizeInKiB must be a whole number from 1024 to 10240, got 512',
    ],
  ])('refuses %j with a RangeError naming the option', (options, message) => {
    expect(() => resolveLocalKinesisOptions(options as never)).toThrow(RangeError);
    expect(() => resolveLocalKinesisOptions(options as never)).toThrow(message);
  });
});

describe('stream spec checks', () => {
  it('take names of up to 128 allowed characters and shard counts from 1', () => {
    expect(() => checkStreamSpec('a'.repeat(128), 1)).not.toThrow();
    expect(() => checkStreamSpec('a'.repeat(129), 1)).toThrow(RangeError);
    expect(() => checkStreamSpec('s', 0)).toThrow('shards of stream s must be an integer from 1 up, got 0');
  });

  it('take a MaxRecordSizeInKiB from 1,024 to 10,240', () => {
    expect([1023, 1024, 10_240, 10_241, 2048.5, '2048'].map(isMaxRecordSize)).toEqual([false, true, true, false, false, false]);
    expect(() => checkMaxRecordSize(10_240)).not.toThrow();
    expect(() => checkMaxRecordSize(10_241)).toThrow(RangeError);
  });
});
