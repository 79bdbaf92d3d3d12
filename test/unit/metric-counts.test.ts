import { describe, expect, it } from 'vitest';
import { MetricCounts } from '../../src/metrics/metric-counts.js';
import { type PendingAggregate, PendingRecord } from '../../src/pending-record.js';

function pending(bytes: number, arrivedAt: number): PendingRecord {
  const data = new Uint8Array(bytes);
  return new PendingRecord({ partitionKey: 'k', data }, data, arrivedAt, 0, () => undefined, bytes + 1);
}

function aggregate(shard: number, items: PendingRecord[], size: number): PendingAggregate {
  return {
    shard,
    items,
    size,
    oldestAt: 0,
    expiresAt: 0,
    record: { partitionKey: 'a', explicitHashKey: undefined, data: new Uint8Array(1) },
  };
}

describe('MetricCounts', () => {
  it('counts received records per stream, and a request per shard: put, bytes and errors by code', () => {
    const counts = new MetricCounts(false);
    counts.recordReceived('a');
    counts.recordReceived('a');
    counts.recordReceived('b');
    counts.requestCompleted({
      stream: 'a',
      entries: [aggregate(0, [pending(10, 0), pending(20, 0)], 40), aggregate(1, [pending(5, 0)], 9)],
      outcomes: [
        { shardId: 'shardId-0', sequenceNumber: '1' },
        { errorCode: 'InternalFailure', errorMessage: 'x' },
      ],
      errorCode: undefined,
      sentAt: 100,
      durationMs: 5,
      shardIdOf: (entry) => `shardId-${entry.shard}`,
    });
    const a = counts.streams.get('a');
    expect(a?.received).toBe(2);
    expect(counts.streams.get('b')?.received).toBe(1);
    expect(a?.shards.get('shardId-0')).toMatchObject({
      userRecordsPut: 2,
      userRecordsDataBytes: 30,
      kinesisRecordsPut: 1,
      kinesisRecordsBytes: 40,
    });
    expect([...(a?.shards.get('shardId-1')?.errorsByCode ?? [])]).toEqual([['InternalFailure', 1]]);
    expect(a?.requestSeconds.count).toBe(0);
  });

  it('keeps the histograms only when detailed, and counts failures, expiries and misplaced records', () => {
    const counts = new MetricCounts(true);
    counts.requestCompleted({
      stream: 'a',
      entries: [aggregate(0, [pending(1, 0)], 3)],
      outcomes: undefined,
      errorCode: 'RequestTimeout',
      sentAt: 500,
      durationMs: 250,
      shardIdOf: () => 'shardId-0',
    });
    counts.recordsFailed('a', 'Expired', 3, true);
    counts.recordsFailed('a', 'AccessDenied', 1, false);
    counts.misplacedSettled('a', 'shardId-2', [pending(7, 0)], 4);
    const a = counts.streams.get('a');
    expect(a?.requestSeconds.count).toBe(1);
    expect(a?.requestSeconds.sum).toBe(0.25);
    expect(a?.shards.get('shardId-0')?.bufferingSeconds.sum).toBe(0.5);
    expect([...(a?.shards.get('shardId-0')?.errorsByCode ?? [])]).toEqual([['RequestTimeout', 1]]);
    expect(a?.expired).toBe(3);
    expect([...(a?.failedByCode ?? [])]).toEqual([
      ['Expired', 3],
      ['AccessDenied', 1],
    ]);
    expect(a?.resentAfterReshard).toBe(4);
    expect(a?.shards.get('shardId-2')).toMatchObject({ userRecordsPut: 1, userRecordsDataBytes: 7 });
  });
});
