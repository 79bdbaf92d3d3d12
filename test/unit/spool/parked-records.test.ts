import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParkedRecords, type WindowRecord } from '../../../src/spool/parked-records.js';

afterEach(() => {
  vi.useRealTimers();
});

function windowRecord(sequence: number, key: string, data: string): WindowRecord {
  const payload = Buffer.from(data);
  return {
    entry: { sequence, appendedAt: 0, payload },
    record: { partitionKey: key, data: payload },
    data: payload,
    settle: () => undefined,
  };
}

describe('ParkedRecords', () => {
  it('sends every parked record again together, one delay after the first was parked', async () => {
    vi.useFakeTimers();
    const resent: number[] = [];
    const parked = new ParkedRecords(100, (record) => resent.push(record.entry.sequence));
    parked.park(windowRecord(1, 'ab', 'xyz'));
    await vi.advanceTimersByTimeAsync(60);
    parked.park(windowRecord(2, 'c', 'de'));
    expect(parked.length).toBe(2);
    expect(parked.bytes).toBe(2 + 3 + 1 + 2);
    await vi.advanceTimersByTimeAsync(40);
    expect(resent).toEqual([1, 2]);
    expect(parked.length).toBe(0);
    expect(parked.bytes).toBe(0);
  });

  it('forgets what it holds at clear, and sends none of it', async () => {
    vi.useFakeTimers();
    const resent: number[] = [];
    const parked = new ParkedRecords(100, (record) => resent.push(record.entry.sequence));
    parked.park(windowRecord(1, 'k', 'x'));
    parked.clear();
    await vi.advanceTimersByTimeAsync(200);
    expect(resent).toEqual([]);
    expect(parked.length).toBe(0);
  });
});
