import { describe, expect, it } from 'vitest';
import type { UserRecordResult } from '../../../src/records.js';
import { AddWaiters } from '../../../src/spool/add-waiters.js';

const stored: UserRecordResult = { successful: true, shardId: 'shardId-0', sequenceNumber: '1', subSequenceNumber: 0, attempts: [] };

describe('AddWaiters', () => {
  it('settles or rejects the promise of a sequence once, and ignores sequences add() did not take', async () => {
    const waiters = new AddWaiters(10);
    const first = waiters.wait(1);
    const second = waiters.wait(2);
    expect(waiters.size).toBe(2);
    waiters.settle(1, stored);
    waiters.settle(1, stored);
    waiters.reject(2, new Error('refused'));
    waiters.reject(3, new Error('not taken'));
    await expect(first).resolves.toBe(stored);
    await expect(second).rejects.toThrow('refused');
    expect(waiters.size).toBe(0);
  });

  it('is full at max, and room() resolves once one settles', async () => {
    const waiters = new AddWaiters(1);
    await waiters.room();
    void waiters.wait(5);
    expect(waiters.full).toBe(true);
    let room = false;
    void waiters.room().then(() => (room = true));
    await Promise.resolve();
    expect(room).toBe(false);
    waiters.settle(5, stored);
    await Promise.resolve();
    expect(room).toBe(true);
  });

  it('rejects every waiting promise at stop, and room() resolves from then on', async () => {
    const waiters = new AddWaiters(1);
    const waiting = waiters.wait(0);
    const room = waiters.room();
    waiters.stop(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
    await expect(room).resolves.toBeUndefined();
    await expect(waiters.room()).resolves.toBeUndefined();
  });
});
