import { describe, expect, it } from 'vitest';
import { parseHashKey } from '../../src/format/hash-key.js';
import { type PendingAggregate, PendingRecord } from '../../src/pending-record.js';
import { MisplacedAggregates } from '../../src/pipeline/misplaced.js';
import { Retrier } from '../../src/pipeline/retrier.js';
import { RESHARDED_ERROR_CODE, Settler } from '../../src/pipeline/settle.js';
import { ShardMap } from '../../src/pipeline/shard-map.js';
import type { UserRecordResult } from '../../src/records.js';

const HALF = 2n ** 127n;
const MAX = 2n ** 128n - 1n;

/** After a split: the parent's two children, each half the key space. */
const CHILDREN = ShardMap.fromShards([
  { shardId: 'shardId-1', startingHashKey: '0', endingHashKey: String(HALF - 1n) },
  { shardId: 'shardId-2', startingHashKey: String(HALF), endingHashKey: String(MAX) },
]);

function record(hashKey: bigint): { item: PendingRecord; outcome: Promise<UserRecordResult> } {
  let resolve!: (value: UserRecordResult | PromiseLike<UserRecordResult>) => void;
  const outcome = new Promise<UserRecordResult>((r) => {
    resolve = r;
  });
  const data = new Uint8Array(1);
  return { item: new PendingRecord({ partitionKey: 'k', explicitHashKey: String(hashKey), data }, data, 0, 0, resolve, 2), outcome };
}

function setup() {
  const settled: PendingRecord[] = [];
  const reports: Array<[string, number, number]> = [];
  const settler = new Settler(
    { retrier: new Retrier({ minDelayMs: 100, maxDelayMs: 100, failIfThrottled: false }), recordTtl: 30_000, strictOrdering: false },
    {
      settled: (item) => settled.push(item),
      failed: () => undefined,
      retry: () => undefined,
      retryShard: () => undefined,
      misplaced: () => undefined,
    },
  );
  const misplaced = new MisplacedAggregates(
    settler,
    (item, out, offset) => parseHashKey(item.record.explicitHashKey as string, out, offset),
    (shardId, put, resent) => reports.push([shardId, put.length, resent]),
  );
  return { misplaced, settled, reports };
}

function aggregateOf(items: PendingRecord[]): PendingAggregate {
  return {
    shard: 0,
    items,
    size: 10,
    oldestAt: 0,
    expiresAt: 30_000,
    record: { partitionKey: 'a', explicitHashKey: '0', data: new Uint8Array(1) },
  };
}

describe('MisplacedAggregates', () => {
  it('puts the records inside the range of the shard that took the aggregate and returns the others to send again', async () => {
    const { misplaced, settled, reports } = setup();
    const inside = [record(5n), record(HALF - 1n)];
    const outside = record(HALF + 7n);
    misplaced.add(aggregateOf([inside[0]!.item, outside.item, inside[1]!.item]), 'shardId-1', '77', 1_000, 20);
    const again = misplaced.settle(CHILDREN, false);
    expect(again).toEqual([outside.item]);
    expect(misplaced.size).toBe(0);
    expect(settled).toEqual([inside[0]!.item, inside[1]!.item]);
    expect(reports).toEqual([['shardId-1', 2, 1]]);
    expect(await inside[1]!.outcome).toMatchObject({ shardId: 'shardId-1', sequenceNumber: '77', subSequenceNumber: 2 });
    expect(outside.item.attempts?.map((a) => a.errorCode)).toEqual([RESHARDED_ERROR_CODE]);
  });

  it('waits for a map that holds the shard, and after a few loads without it sends every record again', () => {
    const { misplaced, reports } = setup();
    const records = [record(1n), record(2n)];
    misplaced.add(aggregateOf(records.map((r) => r.item)), 'shardId-9', '1', 1_000, 20);
    expect(misplaced.settle(CHILDREN, false)).toEqual([]);
    expect(misplaced.settle(CHILDREN, true)).toEqual([]);
    expect(misplaced.settle(CHILDREN, true)).toEqual([]);
    expect(misplaced.size).toBe(1);
    expect(misplaced.settle(CHILDREN, true)).toEqual(records.map((r) => r.item));
    expect(reports).toEqual([['shardId-9', 0, 2]]);
  });

  it('settleAsPut() resolves every waiting record where it landed', async () => {
    const { misplaced } = setup();
    const records = [record(1n), record(HALF + 1n)];
    misplaced.add(aggregateOf(records.map((r) => r.item)), 'shardId-1', '5', 1_000, 20);
    misplaced.settleAsPut();
    expect(await records[1]!.outcome).toMatchObject({ shardId: 'shardId-1', sequenceNumber: '5', subSequenceNumber: 1 });
  });
});
