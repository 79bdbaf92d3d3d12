import { afterEach, describe, expect, it } from 'vitest';
import { BufferFullError, UserRecordFailedError, type UserRecordResult } from '../../../src/records.js';
import { type Settle, SpoolFeeder, type SpoolFeederHost, type SpoolRecord } from '../../../src/spool/spool-feeder.js';
import { SpoolFixture } from './helpers.js';

const fixture = new SpoolFixture();
afterEach(() => fixture.cleanUp());

interface Submitted {
  readonly record: SpoolRecord;
  readonly settle: Settle;
}

/** A host with a window of `room` records that records what it is given. */
function host(room: number): SpoolFeederHost & { submitted: Submitted[]; room: number } {
  const state = {
    submitted: [] as Submitted[],
    room,
    windowRoom: () => ({ records: state.room - state.submitted.length, bytes: 1 << 30 }),
    submit: (record: SpoolRecord, _data: Uint8Array, settle: Settle) => {
      if (state.submitted.length >= state.room) return false;
      state.submitted.push({ record, settle });
      return true;
    },
  };
  return state;
}

const stored: UserRecordResult = { successful: true, shardId: 'shardId-0', sequenceNumber: '1', subSequenceNumber: 0, attempts: [] };

function failure(errorCode: string): UserRecordFailedError {
  return new UserRecordFailedError({ partitionKey: 'k', data: '' }, [{ delayMs: 0, durationMs: 1, success: false, errorCode }], undefined, {
    errorCode,
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

function take(window: { submitted: Submitted[] }): Submitted[] {
  return window.submitted.splice(0);
}

describe('SpoolFeeder', () => {
  it('feeds the window in order, no more than it has room for, and acknowledges what Kinesis stored', async () => {
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1 });
    const window = host(3);
    const feeder = new SpoolFeeder(spool, window, { failIfThrottled: false, maxWaitingAdds: 100, retryDelayMs: 10 });
    feeder.start();
    for (let i = 0; i < 5; i++) await feeder.enqueue({ partitionKey: `k${i}`, data: `d${i}` });
    await until(() => window.submitted.length === 3);
    const first = take(window);
    expect(first.map((s) => s.record.partitionKey)).toEqual(['k0', 'k1', 'k2']);
    for (const { settle } of first) settle(stored);
    await until(() => window.submitted.length === 2);
    expect(window.submitted.map((s) => s.record.partitionKey)).toEqual(['k3', 'k4']);
    for (const { settle } of take(window)) settle(stored);
    await spool.whenDone();
    expect(spool.stats).toMatchObject({ records: 0, delivered: 5 });
    feeder.stop();
  });

  it('resolves add() with the result Kinesis gave, and refuses beyond maxWaitingAdds', async () => {
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1 });
    const window = host(10);
    const feeder = new SpoolFeeder(spool, window, { failIfThrottled: false, maxWaitingAdds: 1, retryDelayMs: 10 });
    feeder.start();
    const added = feeder.add({ partitionKey: 'a', data: 'x' });
    await expect(feeder.add({ partitionKey: 'b', data: 'x' })).rejects.toBeInstanceOf(BufferFullError);
    await until(() => window.submitted.length === 1);
    take(window)[0]?.settle(stored);
    await expect(added).resolves.toBe(stored);
    feeder.stop();
  });

  it('removes a record that failed for good, telling onFailure and add(); sends again one whose attempts ran out', async () => {
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1 });
    const window = host(10);
    const failed: UserRecordFailedError[] = [];
    const feeder = new SpoolFeeder(spool, window, {
      failIfThrottled: false,
      maxWaitingAdds: 10,
      retryDelayMs: 10,
      onFailure: (error) => failed.push(error),
    });
    feeder.start();
    const doomed = feeder.add({ partitionKey: 'doomed', data: 'x' });
    await feeder.enqueue({ partitionKey: 'again', data: 'x' });
    await until(() => window.submitted.length === 2);
    const [first, second] = take(window) as [Submitted, Submitted];
    first.settle(Promise.reject(failure('ValidationException')));
    second.settle(Promise.reject(failure('ServiceUnavailable')));
    await expect(doomed).rejects.toBeInstanceOf(UserRecordFailedError);
    expect(failed).toHaveLength(1);
    await until(() => window.submitted.length === 1);
    expect(window.submitted[0]?.record.partitionKey).toBe('again');
    take(window)[0]?.settle(stored);
    await spool.whenDone();
    expect(spool.stats).toMatchObject({ records: 0, delivered: 1, failed: 1 });
    feeder.stop();
  });

  it('leaves a record in the spool when the producer closed under it', async () => {
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1 });
    const window = host(10);
    const feeder = new SpoolFeeder(spool, window, { failIfThrottled: false, maxWaitingAdds: 10, retryDelayMs: 10 });
    feeder.start();
    await feeder.enqueue({ partitionKey: 'k', data: 'x' });
    await until(() => window.submitted.length === 1);
    feeder.stop();
    take(window)[0]?.settle(Promise.reject(failure('ProducerClosed')));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(spool.records).toBe(1);
  });

  it('drops a record older than maxAgeMs instead of sending it', async () => {
    let now = 1_000_000;
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1, maxAgeMs: 1000, now: () => now });
    const window = host(10);
    const feeder = new SpoolFeeder(spool, window, { failIfThrottled: false, maxWaitingAdds: 10, retryDelayMs: 10 });
    const old = feeder.add({ partitionKey: 'old', data: 'x' });
    await spool.durable();
    now += 5000;
    feeder.start();
    await expect(old).rejects.toThrow('older than spool.maxAgeMs');
    expect(window.submitted).toHaveLength(0);
    expect(spool.stats.expired).toBe(1);
    feeder.stop();
  });
});

describe('SpoolFeeder on a full disk', () => {
  it('reports ENOSPC with the path: add() rejects with BufferFullError, enqueue() waits', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { frameBytes } = await import('../../../src/spool/frame.js');
    const { encodeSpooledRecord } = await import('../../../src/spool/spooled-record.js');
    const directory = fixture.directory();
    const frame = frameBytes(encodeSpooledRecord(undefined, 'k', undefined, Buffer.from('x')).length);
    const spool = fixture.open({ directory, syncIntervalMs: 1, segmentBytes: frame * 4 });
    // The second segment is /dev/full, where every write fails with ENOSPC (made after the open, which would read it).
    fs.symlinkSync('/dev/full', path.join(directory, '0000000000000004.seg'));
    const feeder = new SpoolFeeder(spool, host(0), { failIfThrottled: false, maxWaitingAdds: 10, retryDelayMs: 10 });
    for (let i = 0; i < 4; i++) await feeder.enqueue({ partitionKey: 'k', data: 'x' });
    let resolved = false;
    const waiting = feeder.enqueue({ partitionKey: 'k', data: 'x' }).then(
      () => {
        resolved = true;
      },
      () => undefined,
    );
    await until(() => !spool.hasRoom(10));
    const refused = await feeder.add({ partitionKey: 'k', data: 'x' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BufferFullError);
    expect((refused as Error).message).toContain('ENOSPC');
    expect((refused as Error).message).toContain(directory);
    expect(resolved).toBe(false);
    feeder.stop();
    await spool.close();
    await waiting;
  });
});
