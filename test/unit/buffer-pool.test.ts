import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/pipeline/buffer-pool.js';

describe('BufferPool', () => {
  it('hands out buffers of exactly the size asked for', () => {
    const pool = new BufferPool({ maxFreeBytes: 1 << 20 });
    for (const size of [0, 1, 4095, 4096, 4097, 51_200, 5 * 1024 * 1024]) expect(pool.acquire(size).length).toBe(size);
  });

  it('reuses a released buffer for the next one of the same size class', () => {
    const pool = new BufferPool({ maxFreeBytes: 1 << 20 });
    const first = pool.acquire(50_000);
    pool.release(first);
    const second = pool.acquire(60_000);
    expect(second.buffer).toBe(first.buffer);
    expect(pool.acquire(50_000).buffer).not.toBe(first.buffer);
  });

  it('ignores buffers it did not hand out, small ones, and a second release', () => {
    const pool = new BufferPool({ maxFreeBytes: 1 << 20 });
    const foreign = Buffer.alloc(50_000);
    pool.release(foreign);
    expect(pool.acquire(50_000).buffer).not.toBe(foreign.buffer);
    const small = pool.acquire(100);
    pool.release(small);
    const pooled = pool.acquire(50_000);
    pool.release(pooled);
    pool.release(pooled);
    expect(pool.acquire(50_000).buffer).toBe(pooled.buffer);
    expect(pool.acquire(50_000).buffer).not.toBe(pooled.buffer);
  });

  it('keeps at most maxFreeBytes of free buffers, all size classes together', () => {
    const pool = new BufferPool({ maxFreeBytes: 2 * 65_536 + 8_192 });
    const taken = [1, 2, 3].map(() => pool.acquire(60_000));
    const small = pool.acquire(8_000);
    for (const buffer of taken) pool.release(buffer);
    pool.release(small);
    const again = [1, 2, 3].map(() => pool.acquire(60_000).buffer);
    expect(again.filter((buffer) => taken.some((t) => t.buffer === buffer))).toHaveLength(2);
    expect(pool.acquire(8_000).buffer).toBe(small.buffer);

    const tiny = new BufferPool({ maxFreeBytes: 1024 * 1024 });
    const body = tiny.acquire(5 * 1024 * 1024);
    tiny.release(body);
    expect(tiny.acquire(5 * 1024 * 1024).buffer).not.toBe(body.buffer);
  });
});
