import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LARGEST_RECORD_BYTES, MAX_RECORD_BYTES } from '../../src/format/limits.js';
import { PendingRecord } from '../../src/pending-record.js';
import { mayExceedDefaultLimit, type RecordSizeLimits, RecordSizeWait } from '../../src/pipeline/record-size-wait.js';
import { ValidationError } from '../../src/records.js';

function pending(bytes: number): PendingRecord {
  const data = new Uint8Array(bytes);
  return new PendingRecord({ partitionKey: 'k', data }, data, 0, 0, () => undefined, bytes);
}

/** Limits that become known (at `maxRecordBytes`) when the test resolves the read. */
function limitsOf(maxRecordBytes: number) {
  let finish!: () => void;
  let reads = 0;
  const limits: { known: boolean; current: RecordSizeLimits['current']; refresh: RecordSizeLimits['refresh'] } = {
    known: false,
    current: { maxRecordBytes: MAX_RECORD_BYTES, description: 'the default' },
    refresh: () => {
      reads++;
      return new Promise<void>((resolve) => {
        finish = () => {
          limits.known = true;
          limits.current = { maxRecordBytes, description: "the stream's limit" };
          resolve();
        };
      });
    },
  };
  return { limits, finish: () => finish(), reads: () => reads };
}

describe('RecordSizeWait', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tells a record that may be over 1 MiB, and reads no limit for it', () => {
    const { limits, reads } = limitsOf(2 * MAX_RECORD_BYTES);
    const wait = new RecordSizeWait(limits, { fits: () => undefined, tooLarge: () => undefined });
    expect(mayExceedDefaultLimit(pending(1000))).toBe(false);
    expect(mayExceedDefaultLimit(pending(MAX_RECORD_BYTES))).toBe(true);
    expect(reads()).toBe(0);
    expect(wait.maxRecordBytes).toBe(LARGEST_RECORD_BYTES);
    expect(wait.maxRecordBytesSource).toBeUndefined();
  });

  it('holds a record over 1 MiB until the limit is read, then lets through what fits and rejects the rest', async () => {
    const { limits, finish, reads } = limitsOf(2 * MAX_RECORD_BYTES);
    const fits: PendingRecord[] = [];
    const tooLarge: Array<[PendingRecord, ValidationError]> = [];
    const wait = new RecordSizeWait(limits, {
      fits: (items) => fits.push(...items),
      tooLarge: (item, error) => tooLarge.push([item, error]),
    });
    const small = pending(MAX_RECORD_BYTES + 10);
    const large = pending(3 * MAX_RECORD_BYTES);
    expect(wait.holds(small)).toBe(true);
    expect(wait.holds(large)).toBe(true);
    expect(wait.size).toBe(2);
    expect(reads()).toBe(2);
    finish();
    await vi.runAllTimersAsync();
    expect(fits).toEqual([small]);
    expect(tooLarge.map(([item]) => item)).toEqual([large]);
    expect(tooLarge[0]?.[1]).toBeInstanceOf(ValidationError);
    expect(tooLarge[0]?.[1].message).toContain("the stream's limit");
    expect(wait.size).toBe(0);
    expect(wait.maxRecordBytes).toBe(2 * MAX_RECORD_BYTES);
    expect(wait.maxRecordBytesSource).toBe("the stream's limit");
    expect(wait.holds(pending(MAX_RECORD_BYTES + 10))).toBe(false);
  });

  it('gives its waiting records up on close', () => {
    const { limits } = limitsOf(2 * MAX_RECORD_BYTES);
    const wait = new RecordSizeWait(limits, { fits: () => undefined, tooLarge: () => undefined });
    const item = pending(MAX_RECORD_BYTES + 1);
    wait.holds(item);
    expect(wait.close()).toEqual([item]);
    expect(wait.size).toBe(0);
  });
});
