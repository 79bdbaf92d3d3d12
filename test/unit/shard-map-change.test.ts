import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PendingRecord } from '../../src/pending-record.js';
import { EXPIRED_ERROR_CODE } from '../../src/pipeline/settle.js';
import { ShardMap } from '../../src/pipeline/shard-map.js';
import { ShardMapChange, type ShardMapChangeSink } from '../../src/pipeline/shard-map-change.js';

const MAX = 2n ** 128n - 1n;
const ONE = ShardMap.fromShards([{ shardId: 'shardId-0', startingHashKey: '0', endingHashKey: String(MAX) }]);
const TWO = ShardMap.fromShards([
  { shardId: 'shardId-1', startingHashKey: '0', endingHashKey: String(2n ** 127n - 1n) },
  { shardId: 'shardId-2', startingHashKey: String(2n ** 127n), endingHashKey: String(MAX) },
]);

function pending(key: string): PendingRecord {
  const data = new Uint8Array(1);
  return new PendingRecord({ partitionKey: key, data }, data, 0, 0, () => undefined, 2);
}

function setup(misplacedLeft = false) {
  const calls: string[] = [];
  const readmitted: string[][] = [];
  const failed: Array<[string, string, string, string]> = [];
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() };
  const sink: ShardMapChangeSink = {
    resendMisplaced: () => [pending('misplaced')],
    misplacedLeft: () => misplacedLeft,
    settleMisplacedAsPut: () => calls.push('settleMisplacedAsPut'),
    takeUnsent: () => [pending('unsent')],
    resetRates: () => calls.push('resetRates'),
    refreshMap: () => calls.push('refreshMap'),
    readmit: (items) => readmitted.push(items.map((item) => item.partitionKey)),
    fail: (item, reason, errorCode, message) => failed.push([item.partitionKey, reason, errorCode, message]),
  };
  return { change: new ShardMapChange('stream-a', logger, sink), calls, readmitted, failed, logger };
}

describe('ShardMapChange', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('on the first map sends the misplaced, then what waited, and logs the map', () => {
    const { change, calls, readmitted, logger } = setup();
    change.loaded(ONE, undefined, [pending('waited')]);
    expect(readmitted).toEqual([['misplaced', 'waited']]);
    expect(calls).toEqual([]);
    expect(logger.info).toHaveBeenCalledWith('shard map loaded', { stream: 'stream-a', openShards: 1 });
  });

  it('after a reshard predicts every unsent record again and resets the rates', () => {
    const { change, calls, readmitted } = setup();
    change.loaded(TWO, ONE, [pending('waited')]);
    expect(readmitted).toEqual([['misplaced', 'unsent', 'waited']]);
    expect(calls).toEqual(['resetRates']);
  });

  it('keeps what is buffered when the shards did not change, and reloads while misplaced records remain', () => {
    const { change, calls, readmitted, logger } = setup(true);
    change.loaded(ONE, ONE, []);
    expect(readmitted).toEqual([['misplaced']]);
    expect(calls).toEqual(['refreshMap']);
    expect(logger.info).not.toHaveBeenCalled();
  });

  it('fails what waited when the map cannot be loaded or recordTtl passes', () => {
    const { change, calls, failed } = setup();
    change.failed([pending('a')], 'AccessDeniedException', 'denied');
    change.expired([pending('b')]);
    expect(calls).toEqual(['settleMisplacedAsPut']);
    expect(failed).toEqual([
      ['a', 'unretryable', 'AccessDeniedException', 'cannot list the shards of stream-a: denied'],
      ['b', 'expired', EXPIRED_ERROR_CODE, 'the shard map could not be loaded before recordTtl passed'],
    ]);
  });
});
