import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type PendingAggregate, PendingRecord } from '../../src/pending-record.js';
import type { RequestReport } from '../../src/pipeline/observer.js';
import { RequestCompletion, type RequestCompletionSink, reportOutcomes } from '../../src/pipeline/request-completion.js';
import { THROTTLED_ERROR_CODE } from '../../src/pipeline/retrier.js';
import type { SendOutcome } from '../../src/pipeline/sender.js';
import type { RequestSettlement } from '../../src/pipeline/settle.js';
import { ShardMap } from '../../src/pipeline/shard-map.js';

const MAX = 2n ** 128n - 1n;
const MAP = ShardMap.fromShards([
  { shardId: 'shardId-0', startingHashKey: '0', endingHashKey: String(2n ** 127n - 1n) },
  { shardId: 'shardId-1', startingHashKey: String(2n ** 127n), endingHashKey: String(MAX) },
]);

function entry(shard: number, size: number): PendingAggregate {
  return {
    shard,
    items: [],
    size,
    oldestAt: 0,
    expiresAt: 0,
    record: { partitionKey: 'a', explicitHashKey: '0', data: new Uint8Array(1) },
  };
}

const SENT: SendOutcome = {
  kind: 'sent',
  durationMs: 5,
  records: [
    { shardId: 'shardId-0', sequenceNumber: '1' },
    { errorCode: THROTTLED_ERROR_CODE, errorMessage: 'slow down' },
    { errorCode: 'InternalFailure', errorMessage: 'oops' },
  ],
};

function setup(options: { strictOrdering?: boolean; adaptiveRateLimit?: boolean; settlement?: RequestSettlement; map?: ShardMap }) {
  const calls: string[] = [];
  const limiter = { accepted: vi.fn(), throttled: vi.fn() };
  const reports: RequestReport[] = [];
  const observer = { requestCompleted: (report: RequestReport) => reports.push(report), recordsFailed: vi.fn(), misplacedSettled: vi.fn() };
  const resent = [new PendingRecord({ partitionKey: 'k', data: new Uint8Array(1) }, new Uint8Array(1), 0, 0, () => undefined, 2)];
  const sink: RequestCompletionSink = {
    settle: () => {
      calls.push('settle');
      return options.settlement ?? { stale: false, misplaced: undefined };
    },
    currentMap: () => options.map ?? MAP,
    shardsFinished: () => calls.push('shardsFinished'),
    resendMisplaced: () => {
      calls.push('resendMisplaced');
      return resent;
    },
    readmit: (items) => calls.push(`readmit ${items.length}`),
    refreshMap: () => calls.push('refreshMap'),
    next: () => calls.push('next'),
  };
  const completion = new RequestCompletion(
    { label: 'stream-a', strictOrdering: options.strictOrdering ?? false, adaptiveRateLimit: options.adaptiveRateLimit ?? false },
    limiter,
    observer,
    sink,
  );
  return { completion, calls, limiter, reports };
}

describe('RequestCompletion', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('settles, reports the request with its shard ids, and sends what is queued next', () => {
    const { completion, calls, limiter, reports } = setup({});
    const entries = [entry(0, 100), entry(1, 200), entry(5, 300)];
    completion.completed(entries, SENT, MAP, 1_000);
    expect(calls).toEqual(['settle', 'next']);
    expect(limiter.accepted).not.toHaveBeenCalled();
    expect(reports).toHaveLength(1);
    const report = reports[0] as RequestReport;
    expect(report).toMatchObject({
      stream: 'stream-a',
      outcomes: SENT.kind === 'sent' ? SENT.records : [],
      errorCode: undefined,
      sentAt: 1_000,
    });
    expect(entries.map((e) => report.shardIdOf(e))).toEqual(['shardId-0', 'shardId-1', 'unknown']);
  });

  it('tells the adaptive limiter what each shard stored and throttled, and when the request went out, only while the map is the request’s', () => {
    const entries = [entry(0, 100), entry(1, 200), entry(1, 300)];
    const current = setup({ adaptiveRateLimit: true });
    current.completion.completed(entries, SENT, MAP, 750);
    expect(current.limiter.accepted.mock.calls).toEqual([[0, 100, 750]]);
    expect(current.limiter.throttled.mock.calls).toEqual([[1, 200, 750]]);
    const other = setup({
      adaptiveRateLimit: true,
      map: ShardMap.fromShards([{ shardId: 'x', startingHashKey: '0', endingHashKey: String(MAX) }]),
    });
    other.completion.completed(entries, SENT, MAP, 0);
    expect(other.limiter.accepted).not.toHaveBeenCalled();
  });

  it('reports a failed request by its error code, and gives strictOrdering shards their turn', () => {
    const { completion, calls, reports } = setup({ strictOrdering: true });
    completion.completed([entry(0, 1)], { kind: 'failed', errorCode: 'RequestTimeout', errorMessage: 't', durationMs: 9 }, undefined, 0);
    expect(reports[0]).toMatchObject({ outcomes: undefined, errorCode: 'RequestTimeout', durationMs: 9 });
    expect(reports[0]?.shardIdOf(entry(0, 1))).toBe('unknown');
    expect(calls).toEqual(['settle', 'shardsFinished', 'next']);
  });

  it('sends misplaced records again and reloads a stale map', () => {
    const misplaced = new Set([entry(0, 1)]);
    const { completion, calls } = setup({ settlement: { stale: true, misplaced } });
    completion.completed([entry(0, 1)], SENT, MAP, 0);
    expect(calls).toEqual(['settle', 'resendMisplaced', 'readmit 1', 'refreshMap', 'next']);
  });
});

describe('reportOutcomes', () => {
  it('ignores failures other than throttling', () => {
    const limiter = { accepted: vi.fn(), throttled: vi.fn() };
    reportOutcomes(limiter, [entry(2, 10)], [{ errorCode: 'InternalFailure', errorMessage: 'x' }], 0);
    expect(limiter.accepted).not.toHaveBeenCalled();
    expect(limiter.throttled).not.toHaveBeenCalled();
  });
});
