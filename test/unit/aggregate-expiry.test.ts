import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type PendingAggregate, PendingRecord } from '../../src/pending-record.js';
import { AggregateExpiry } from '../../src/pipeline/aggregate-expiry.js';

function pending(expiresAt: number): PendingRecord {
  const data = new Uint8Array(1);
  return new PendingRecord({ partitionKey: 'k', data }, data, expiresAt, 0, () => undefined, 2);
}

function aggregate(shard: number, items: PendingRecord[]): PendingAggregate {
  return {
    shard,
    items,
    size: 10,
    oldestAt: 0,
    expiresAt: 0,
    record: { partitionKey: 'a', explicitHashKey: '0', data: new Uint8Array(1) },
  };
}

/** A settler's expireDue where a record's arrivedAt stands for its deadline. */
function setup(strictOrdering: boolean) {
  const expired: PendingRecord[] = [];
  const readmitted: PendingRecord[] = [];
  const blocked: Array<[number, PendingRecord[]]> = [];
  const expiry = new AggregateExpiry(
    strictOrdering,
    {
      expireDue: (aggregates, cutoff) => {
        const live: PendingRecord[] = [];
        for (const item of aggregates.flatMap((a) => a.items)) (item.arrivedAt <= cutoff ? expired : live).push(item);
        return live;
      },
      readmit: (items) => readmitted.push(...items),
      block: (shard, live) => blocked.push([shard, [...live]]),
    },
    () => Date.now(),
  );
  return { expiry, expired, readmitted, blocked };
}

describe('AggregateExpiry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails the records due within the margin and aggregates the others again', () => {
    const { expiry, expired, readmitted, blocked } = setup(false);
    const due = pending(1_050);
    const later = pending(2_000);
    expiry.expire([aggregate(0, [due, later])], 100);
    expect(expired).toEqual([due]);
    expect(readmitted).toEqual([later]);
    expect(blocked).toEqual([]);
  });

  it('with strictOrdering parks what lives ahead of its shard, from the last aggregate back', () => {
    const { expiry, expired, readmitted, blocked } = setup(true);
    const first = pending(5_000);
    const second = pending(6_000);
    const gone = pending(900);
    vi.advanceTimersByTime(0);
    expiry.expire([aggregate(1, [first]), aggregate(1, [gone, second])], 0);
    expect(expired).toEqual([gone]);
    expect(readmitted).toEqual([]);
    expect(blocked).toEqual([
      [1, [second]],
      [1, [first]],
    ]);
  });

  it('reads the clock when it expires, not when it was made', () => {
    const { expiry, expired } = setup(false);
    const item = pending(1_500);
    vi.advanceTimersByTime(600);
    expiry.expire([aggregate(0, [item])], 0);
    expect(expired).toEqual([item]);
  });
});
