import { afterEach, describe, expect, it, vi } from 'vitest';
import { BufferFullError } from '../../../src/records.js';
import { SpoolRoom, spoolFullError } from '../../../src/spool/room.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('SpoolRoom', () => {
  it('resolves at once when the record fits, else when a freed segment makes it fit', async () => {
    const room = new SpoolRoom();
    await room.waitFor(() => true);
    let fits = false;
    let resolved = false;
    void room.waitFor(() => fits).then(() => (resolved = true));
    room.freed();
    await Promise.resolve();
    expect(resolved).toBe(false);
    fits = true;
    room.freed();
    await Promise.resolve();
    expect(resolved).toBe(true);
  });

  it('says the disk is full after ENOSPC until a segment is freed', () => {
    const room = new SpoolRoom();
    room.diskFilled();
    expect(room.diskFull).toBe(true);
    room.freed();
    expect(room.diskFull).toBe(false);
    room.close();
  });

  it('tries a full disk again after the retry time, waking the waiters', async () => {
    vi.useFakeTimers();
    const room = new SpoolRoom(1000);
    room.diskFilled();
    let resolved = false;
    void room.waitFor(() => !room.diskFull).then(() => (resolved = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(resolved).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(room.diskFull).toBe(false);
    expect(resolved).toBe(true);
  });

  it('resolves every waiter at close', async () => {
    const room = new SpoolRoom();
    const waiting = room.waitFor(() => false);
    room.close();
    await expect(waiting).resolves.toBeUndefined();
    await expect(room.waitFor(() => false)).resolves.toBeUndefined();
  });
});

describe('spoolFullError', () => {
  it('names spool.maxBytes, its limit and the bytes held, or the full disk', () => {
    const full = spoolFullError(1000, 990, '/spool', false);
    expect(full).toBeInstanceOf(BufferFullError);
    expect(full).toMatchObject({ field: 'spool.maxBytes', limit: 1000, actual: 990 });
    expect(full.message).toContain('spool.maxBytes reached: the spool in /spool holds 990 bytes, the limit is 1,000');
    expect(spoolFullError(1000, 10, '/spool', true).message).toContain('is full (ENOSPC) at 10 bytes of spool');
  });
});
