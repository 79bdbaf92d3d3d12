import { describe, expect, it } from 'vitest';
import { DoneCursor } from '../../../src/spool/done-cursor.js';

describe('DoneCursor', () => {
  it('moves only past a prefix of done records, acknowledged in any order', () => {
    const done = new Set<number>();
    const cursor = new DoneCursor(10, (sequence) => done.has(sequence));
    done.add(11).add(12);
    cursor.advance(20);
    expect(cursor.low).toBe(10);
    done.add(10);
    cursor.advance(20);
    expect(cursor.low).toBe(13);
  });

  it('stops at the next sequence to be appended', () => {
    const cursor = new DoneCursor(0, () => true);
    cursor.advance(5);
    expect(cursor.low).toBe(5);
  });

  it('resolves whenDone at once when passed, else once the cursor passes its sequence', async () => {
    const done = new Set<number>();
    const cursor = new DoneCursor(0, (sequence) => done.has(sequence));
    await cursor.whenDone(-1);
    let resolved = 0;
    void cursor.whenDone(0).then(() => resolved++);
    void cursor.whenDone(2).then(() => resolved++);
    done.add(0).add(1);
    cursor.advance(3);
    await Promise.resolve();
    expect(resolved).toBe(1);
    done.add(2);
    cursor.advance(3);
    await Promise.resolve();
    expect(resolved).toBe(2);
  });
});
