import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KinesisRecord } from '../../src/format/aggregate-encoder.js';
import type { PendingAggregate } from '../../src/pending-record.js';
import type { Batch } from '../../src/pipeline/collector.js';
import { RequestDispatch, type RequestSender } from '../../src/pipeline/request-dispatch.js';
import type { SendOutcome } from '../../src/pipeline/sender.js';
import { ShardMap } from '../../src/pipeline/shard-map.js';

const MAP = ShardMap.fromShards([{ shardId: 'shardId-0', startingHashKey: '0', endingHashKey: String(2n ** 128n - 1n) }]);

function batchOf(...keys: string[]): Batch<PendingAggregate> {
  const entries = keys.map((key): PendingAggregate => ({
    shard: 0,
    items: [],
    size: 1,
    oldestAt: 0,
    expiresAt: 0,
    record: { partitionKey: key, explicitHashKey: '0', data: new Uint8Array(1) },
  }));
  return { entries, size: entries.length, oldestAt: 0, expiresAt: 0 };
}

/** A sender with `connections` connections whose requests each answer after `delayMs`. */
function senderOf(connections: number, delayMs: number): RequestSender & { sent: string[][] } {
  let inFlight = 0;
  const sent: string[][] = [];
  return {
    sent,
    get hasCapacity() {
      return inFlight < connections;
    },
    send(records: readonly KinesisRecord[]): Promise<SendOutcome> {
      inFlight++;
      sent.push(records.map((record) => record.partitionKey));
      return new Promise((resolve) =>
        setTimeout(() => {
          inFlight--;
          resolve({ kind: 'sent', records: [], durationMs: delayMs });
        }, delayMs),
      );
    },
  };
}

describe('RequestDispatch', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends queued batches while a connection is free, and reports each outcome with its map and send time', async () => {
    const queue = [batchOf('a', 'b'), batchOf('c'), batchOf('d')];
    const sender = senderOf(2, 50);
    const completed: Array<[string[], ShardMap | undefined, number]> = [];
    const dispatch = new RequestDispatch(
      sender,
      { shift: () => queue.shift() },
      () => MAP,
      (entries, _outcome, map, sentAt) => {
        completed.push([entries.map((entry) => entry.record.partitionKey), map, sentAt]);
        dispatch.pump();
      },
      () => Date.now(),
    );
    dispatch.pump();
    expect(sender.sent).toEqual([['a', 'b'], ['c']]);
    expect(queue).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(completed).toEqual([
      [['a', 'b'], MAP, 1_000],
      [['c'], MAP, 1_000],
    ]);
    expect(sender.sent).toEqual([['a', 'b'], ['c'], ['d']]);
    await vi.advanceTimersByTimeAsync(50);
    expect(completed[2]).toEqual([['d'], MAP, 1_050]);
  });

  it('does nothing when the queue is empty', () => {
    const sender = senderOf(1, 10);
    const dispatch = new RequestDispatch(
      sender,
      { shift: () => undefined },
      () => undefined,
      () => undefined,
    );
    dispatch.pump();
    expect(sender.sent).toEqual([]);
  });
});
