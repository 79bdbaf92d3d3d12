import { describe, expect, it } from 'vitest';
import { type PendingAggregate, PendingRecord } from '../../src/pending-record.js';
import { Retrier } from '../../src/pipeline/retrier.js';
import { ShardMap } from '../../src/pipeline/shard-map.js';
import { EXPIRED_ERROR_CODE, RESHARDED_ERROR_CODE, Settler } from '../../src/pipeline/settle.js';
import { UserRecordFailedError, type UserRecordResult } from '../../src/records.js';

const THROTTLED = 'ProvisionedThroughputExceededException';

/** A pending record whose outcome the test can read. */
function record(id: number, arrivedAt = 1_000): { item: PendingRecord; outcome: () => Promise<UserRecordResult> } {
  let resolve!: (value: UserRecordResult | PromiseLike<UserRecordResult>) => void;
  const promise = new Promise<UserRecordResult>((r) => {
    resolve = r;
  });
  promise.catch(() => undefined);
  const data = new Uint8Array(4);
  return {
    item: new PendingRecord({ partitionKey: `k${id}`, data }, data, arrivedAt, 0, resolve, 4 + String(id).length + 1),
    outcome: () => promise,
  };
}

function aggregateOf(shard: number, items: PendingRecord[]): PendingAggregate {
  return {
    shard,
    items,
    size: 100,
    oldestAt: 1_000,
    expiresAt: 31_000,
    record: { partitionKey: 'a', explicitHashKey: '0', data: new Uint8Array(1) },
  };
}

function setup(options: { strictOrdering?: boolean; failIfThrottled?: boolean; recordTtl?: number } = {}) {
  const settled: PendingRecord[] = [];
  const failed: Array<[string, number, string]> = [];
  const retried: Array<[PendingRecord, number]> = [];
  const shardRetries: Array<[number, PendingRecord[], number]> = [];
  const misplaced: Array<[PendingAggregate, string]> = [];
  const retrier = new Retrier({ minDelayMs: 100, maxDelayMs: 1_000, failIfThrottled: options.failIfThrottled ?? false }, () => 0.5);
  const settler = new Settler(
    { retrier, recordTtl: options.recordTtl ?? 30_000, strictOrdering: options.strictOrdering ?? false },
    {
      settled: (item) => settled.push(item),
      failed: (code, count, reason) => failed.push([code, count, reason]),
      retry: (item, delayMs) => retried.push([item, delayMs]),
      retryShard: (shard, items, delayMs) => shardRetries.push([shard, items, delayMs]),
      misplaced: (entry, shardId) => misplaced.push([entry, shardId]),
    },
  );
  return { settler, settled, failed, retried, shardRetries, misplaced };
}

describe('Settler', () => {
  it('resolves every record of a put aggregate with its shard, sequence number and index, in whole milliseconds', async () => {
    const { settler, settled } = setup();
    const records = [record(1), record(2), record(3)];
    records[2]!.item.readyAt = 1_003;
    settler.putAll(
      aggregateOf(
        0,
        records.map((r) => r.item),
      ),
      'shardId-1',
      '42',
      1_010.4,
      25.6,
    );
    const results = await Promise.all(records.map((r) => r.outcome()));
    expect(results.map((r) => [r.shardId, r.sequenceNumber, r.subSequenceNumber])).toEqual([
      ['shardId-1', '42', 0],
      ['shardId-1', '42', 1],
      ['shardId-1', '42', 2],
    ]);
    expect(results[0]!.attempts).toEqual([{ delayMs: 10, durationMs: 26, success: true }]);
    // Records ready in the same millisecond share one frozen list.
    expect(results[1]!.attempts).toBe(results[0]!.attempts);
    expect(Object.isFrozen(results[0]!.attempts)).toBe(true);
    expect(results[2]!.attempts).toEqual([{ delayMs: 7, durationMs: 26, success: true }]);
    expect(settled).toHaveLength(3);
  });

  it('a plain record (one in its Kinesis record) gets sub-sequence number 0', async () => {
    const { settler } = setup();
    const one = record(1);
    settler.putAll(aggregateOf(0, [one.item]), 's', '7', 1_000, 1);
    expect((await one.outcome()).subSequenceNumber).toBe(0);
  });

  it('records a failed attempt and retries, then resolves with every attempt; its failed attempts are the ones that failed', async () => {
    const { settler, retried, settled } = setup();
    const one = record(1);
    const entry = aggregateOf(0, [one.item]);
    settler.attemptFailed(entry, 'InternalFailure', 'try again', 1_000.7, 30.2, 1_031);
    expect(retried).toEqual([[one.item, 50]]);
    expect(settled).toEqual([]);
    one.item.readyAt = 1_100;
    settler.putAll(entry, 's', '1', 1_120, 10);
    const result = await one.outcome();
    expect(result.attempts).toEqual([
      { delayMs: 1, durationMs: 30, success: false, errorCode: 'InternalFailure', errorMessage: 'try again' },
      { delayMs: 20, durationMs: 10, success: true },
    ]);
    expect(one.item.failedAttemptCount).toBe(1);
  });

  it('fails a record whose error no retry fixes, with reason unretryable and the error code', async () => {
    const { settler, failed } = setup();
    const one = record(1);
    settler.attemptFailed(aggregateOf(0, [one.item]), 'AccessDeniedException', 'no', 1_000, 5, 1_005);
    const error = await one.outcome().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserRecordFailedError);
    expect(error).toMatchObject({
      reason: 'unretryable',
      errorCode: 'AccessDeniedException',
      message: 'record failed after 1 attempt; last error AccessDeniedException: no',
    });
    expect(failed).toEqual([['AccessDeniedException', 1, 'unretryable']]);
  });

  it('fails a throttled record with reason throttled when failIfThrottled', async () => {
    const { settler } = setup({ failIfThrottled: true });
    const one = record(1);
    settler.attemptFailed(aggregateOf(0, [one.item]), THROTTLED, 'slow down', 1_000, 5, 1_005);
    expect(await one.outcome().catch((e: unknown) => e)).toMatchObject({ reason: 'throttled', errorCode: THROTTLED });
  });

  it('fails as expired a record whose backoff would pass its deadline', async () => {
    const { settler, failed } = setup({ recordTtl: 100 });
    const one = record(1, 1_000);
    settler.attemptFailed(aggregateOf(0, [one.item]), 'InternalFailure', 'x', 1_000, 60, 1_060);
    const error = await one.outcome().catch((e: unknown) => e);
    expect(error).toMatchObject({
      reason: 'expired',
      errorCode: 'InternalFailure',
      message: 'record expired: recordTtl of 100 ms passed after 1 attempt(s); last error InternalFailure',
    });
    expect(failed).toEqual([['InternalFailure', 1, 'expired']]);
  });

  it("strictOrdering: hands a request's retries over per shard once the request is settled, with the longest delay", () => {
    const { settler, retried, shardRetries } = setup({ strictOrdering: true });
    const [a, b, c] = [record(1), record(2), record(3)];
    const outcome = { kind: 'failed', errorCode: THROTTLED, errorMessage: 'x', durationMs: 5 } as const;
    settler.settleRequest([aggregateOf(0, [a.item, b.item]), aggregateOf(1, [c.item])], outcome, undefined, 1_000, 1_005);
    expect(retried).toEqual([]);
    expect(shardRetries).toEqual([
      [0, [a.item, b.item], 50],
      [1, [c.item], 50],
    ]);
  });

  it('settles a request record by record: puts, failures, a closed shard as a stale map, and an aggregate stored on another shard as misplaced', async () => {
    const { settler, retried, misplaced } = setup();
    const map = ShardMap.fromShards([
      { shardId: 'shardId-0', startingHashKey: '0', endingHashKey: '100' },
      { shardId: 'shardId-1', startingHashKey: '101', endingHashKey: String(2n ** 128n - 1n) },
    ]);
    const [put, retry, moved1, moved2, single] = [record(1), record(2), record(3), record(4), record(5)];
    const movedAggregate = aggregateOf(1, [moved1.item, moved2.item]);
    const settlement = settler.settleRequest(
      [aggregateOf(0, [put.item]), aggregateOf(0, [retry.item]), movedAggregate, aggregateOf(1, [single.item])],
      {
        kind: 'sent',
        durationMs: 9,
        records: [
          { shardId: 'shardId-0', sequenceNumber: '1' },
          { errorCode: 'InternalFailure', errorMessage: 'x' },
          { shardId: 'shardId-7', sequenceNumber: '3' },
          { shardId: 'shardId-8', sequenceNumber: '4' },
        ],
      },
      map,
      1_000,
      1_009,
    );
    expect(settlement.stale).toBe(true);
    expect([...(settlement.misplaced ?? [])]).toEqual([movedAggregate]);
    expect(misplaced).toEqual([[movedAggregate, 'shardId-7']]);
    expect(retried.map(([item]) => item)).toEqual([retry.item]);
    expect(await put.outcome()).toMatchObject({ shardId: 'shardId-0', sequenceNumber: '1' });
    // One record alone in its Kinesis record lands where its own hash key belongs.
    expect(await single.outcome()).toMatchObject({ shardId: 'shardId-8', sequenceNumber: '4' });
  });

  it('a whole failed request fails every entry, and a closed shard named in it means a stale map', () => {
    const { settler, retried } = setup();
    const [a, b] = [record(1), record(2)];
    const settlement = settler.settleRequest(
      [aggregateOf(0, [a.item]), aggregateOf(1, [b.item])],
      { kind: 'failed', errorCode: 'ResourceNotFoundException', errorMessage: 'Shard shardId-1 is closed', durationMs: 3 },
      undefined,
      1_000,
      1_003,
    );
    expect(settlement.stale).toBe(true);
    expect(retried).toEqual([]);
  });

  it('after close, a failed attempt fails its records with reason closed', async () => {
    const { settler } = setup();
    const one = record(1);
    settler.close();
    settler.attemptFailed(aggregateOf(0, [one.item]), 'ProducerClosed', 'closed', 1_000, 5, 1_005);
    expect(await one.outcome().catch((e: unknown) => e)).toMatchObject({ reason: 'closed', errorCode: 'ProducerClosed' });
  });

  it('expire() fails records as expired, quoting the last error when an attempt failed', async () => {
    const { settler, failed } = setup({ recordTtl: 2_000 });
    const [fresh, tried] = [record(1), record(2)];
    tried.item.attempts = [{ delayMs: 0, durationMs: 5, success: false, errorCode: THROTTLED, errorMessage: 'x' }];
    settler.expire([fresh.item, tried.item]);
    expect(await fresh.outcome().catch((e: unknown) => e)).toMatchObject({
      reason: 'expired',
      errorCode: EXPIRED_ERROR_CODE,
      message: 'record expired: recordTtl of 2000 ms passed after 0 attempt(s) while it waited to be sent',
    });
    expect(await tried.outcome().catch((e: unknown) => e)).toMatchObject({ reason: 'expired', errorCode: THROTTLED });
    expect(failed).toEqual([[THROTTLED, 2, 'expired']]);
  });

  it('fail() records what stopped the record as its last attempt', async () => {
    const { settler, failed } = setup();
    const one = record(1);
    settler.fail(one.item, 'closed', 'ProducerClosed', 'the producer closed before the record was sent');
    const error = (await one.outcome().catch((e: unknown) => e)) as UserRecordFailedError;
    expect(error).toMatchObject({
      reason: 'closed',
      errorCode: 'ProducerClosed',
      message: 'record failed: ProducerClosed: the producer closed before the record was sent',
    });
    expect(error.attempts).toEqual([
      {
        delayMs: 0,
        durationMs: 0,
        success: false,
        errorCode: 'ProducerClosed',
        errorMessage: 'the producer closed before the record was sent',
      },
    ]);
    expect(failed).toEqual([['ProducerClosed', 1, 'closed']]);
  });

  it("a record stored outside its shard's range after a reshard counts a failed attempt, then resolves where it went next", async () => {
    const { settler } = setup();
    const [kept, moved] = [record(1), record(2)];
    settler.put(kept.item, 'shardId-5', '9', 0, 1_000, 12);
    settler.attemptMisplaced(moved.item, 'shardId-5', 1_000, 12);
    settler.put(moved.item, 'shardId-6', '11', 3, 1_050, 8);
    expect(await kept.outcome()).toMatchObject({ shardId: 'shardId-5', sequenceNumber: '9', subSequenceNumber: 0 });
    const result = await moved.outcome();
    expect(result).toMatchObject({ shardId: 'shardId-6', sequenceNumber: '11', subSequenceNumber: 3 });
    expect(result.attempts.map((a) => [a.success, a.errorCode])).toEqual([
      [false, RESHARDED_ERROR_CODE],
      [true, undefined],
    ]);
  });
});
