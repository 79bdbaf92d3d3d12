import { describe, expect, it } from 'vitest';
import { OutstandingRecords } from '../../src/outstanding-records.js';
import { BufferFullError } from '../../src/records.js';

/** Whether a promise has settled after the microtasks queued so far ran. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => {
    settled = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('OutstandingRecords', () => {
  it('counts records and bytes in and out', () => {
    const outstanding = new OutstandingRecords({ maxRecords: 10, maxBytes: 1000 });
    const generation = outstanding.add(100);
    outstanding.add(50);
    expect([outstanding.size, outstanding.bytes]).toEqual([2, 150]);
    outstanding.settled(100, generation);
    expect([outstanding.size, outstanding.bytes]).toEqual([1, 50]);
  });

  it('refuses at the record limit with a BufferFullError that names it', () => {
    const outstanding = new OutstandingRecords({ maxRecords: 2, maxBytes: 1000 });
    outstanding.add(1);
    outstanding.add(1);
    expect(() => outstanding.refuseIfFull(0)).toThrow(BufferFullError);
    try {
      outstanding.add(1);
    } catch (error) {
      expect(error).toMatchObject({ code: 'KPL_BUFFER_FULL', field: 'maxOutstandingRecords', limit: 2, actual: 2, max: 2, outstanding: 2 });
    }
    expect(outstanding.size).toBe(2);
  });

  it('refuses a record whose bytes would pass the byte limit, and counts nothing then', () => {
    const outstanding = new OutstandingRecords({ maxRecords: 10, maxBytes: 1000 });
    outstanding.add(900);
    expect(() => outstanding.refuseIfFull(101)).toThrow(/maxOutstandingBytes reached: 900 bytes outstanding, the limit is 1,000/);
    expect(() => outstanding.add(101)).toThrow(BufferFullError);
    expect([outstanding.size, outstanding.bytes]).toEqual([1, 900]);
    expect(outstanding.add(100)).toBe(0);
  });

  it('onRoom(0) waits until both counts are below their limits; onRoom(bytes) until that many fit', async () => {
    const outstanding = new OutstandingRecords({ maxRecords: 2, maxBytes: 1000 });
    const first = outstanding.add(600);
    const second = outstanding.add(400);
    const below = outstanding.onRoom(0);
    const big = outstanding.onRoom(500);
    expect(await isSettled(below)).toBe(false);
    outstanding.settled(400, second);
    expect(await isSettled(below)).toBe(true);
    expect(await isSettled(big)).toBe(false);
    outstanding.settled(600, first);
    expect(await isSettled(big)).toBe(true);
    expect(await isSettled(outstanding.onRoom(1000))).toBe(true);
  });

  it('onSettled() waits only for the records counted before it, generation by generation', async () => {
    const outstanding = new OutstandingRecords({ maxRecords: 10, maxBytes: 1000 });
    const early = outstanding.add(1);
    const firstFlush = outstanding.onSettled();
    const late = outstanding.add(1);
    const secondFlush = outstanding.onSettled();
    outstanding.settled(1, late);
    expect(await isSettled(firstFlush)).toBe(false);
    expect(await isSettled(secondFlush)).toBe(false);
    outstanding.settled(1, early);
    expect(await isSettled(firstFlush)).toBe(true);
    expect(await isSettled(secondFlush)).toBe(true);
    expect(await isSettled(outstanding.onSettled())).toBe(true);
  });

  it('wakes every room waiter on close', async () => {
    const outstanding = new OutstandingRecords({ maxRecords: 1, maxBytes: 1000 });
    outstanding.add(1);
    const waiting = outstanding.onRoom(0);
    outstanding.close();
    expect(await isSettled(waiting)).toBe(true);
    expect(await isSettled(outstanding.onRoom(5000))).toBe(true);
  });
});
