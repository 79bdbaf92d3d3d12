import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { ValidationError } from '../../src/records.js';
import { StreamPipelines } from '../../src/stream-pipelines.js';

/** A client that never answers: the pipelines wait for their shard maps for as long as the test runs. */
function silentClient(): { client: KinesisClient; calls: string[] } {
  const calls: string[] = [];
  const client = {
    send: (command: { constructor: { name: string } }) => {
      calls.push(command.constructor.name);
      return new Promise(() => undefined);
    },
  } as unknown as KinesisClient;
  return { client, calls };
}

describe('StreamPipelines', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts the default stream at once and another stream on its first record, once', () => {
    const { client, calls } = silentClient();
    const pipelines = new StreamPipelines(resolveConfig({ region: 'us-east-1', streamName: 'main' }), client, undefined, () => undefined);
    expect(pipelines.for(undefined)).toBe(pipelines.default);
    expect(pipelines.for('main')).toBe(pipelines.default);
    expect(pipelines.default.label).toBe('main');
    const listShardsBefore = calls.filter((name) => name === 'ListShardsCommand').length;
    expect(listShardsBefore).toBe(1);
    const other = pipelines.for('other');
    expect(other.label).toBe('other');
    expect(pipelines.for('other')).toBe(other);
    expect(calls.filter((name) => name === 'ListShardsCommand')).toHaveLength(2);
    expect(pipelines.shardRates()).toEqual([]);
    pipelines.flush();
    pipelines.close();
  });

  it('refuses a streamName that is not a non-empty string, naming the field', () => {
    const { client } = silentClient();
    const pipelines = new StreamPipelines(resolveConfig({ region: 'us-east-1', streamName: 'main' }), client, undefined, () => undefined);
    expect(() => pipelines.for('')).toThrow(ValidationError);
    expect(() => pipelines.for(42 as unknown as string)).toThrow(/streamName/);
    pipelines.close();
  });
});
