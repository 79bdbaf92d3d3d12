import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LingerTimer } from '../../src/pipeline/linger-timer.js';

describe('LingerTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires at the next due time, re-arms for the one after, and stops when nothing is due', () => {
    let due = [1_100, 1_250];
    const fired: number[] = [];
    const timer = new LingerTimer(
      () => due[0] ?? Infinity,
      (now) => {
        fired.push(now);
        due = due.filter((at) => at > now);
      },
      () => Date.now(),
    );
    timer.arm();
    expect(timer.armed).toBe(true);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([1_100]);
    vi.advanceTimersByTime(150);
    expect(fired).toEqual([1_100, 1_250]);
    expect(timer.armed).toBe(false);
  });

  it('re-arms only for a due time sooner than the pending one', () => {
    let due = 1_500;
    const fired: number[] = [];
    const timer = new LingerTimer(
      () => due,
      (now) => {
        fired.push(now);
        due = Infinity;
      },
      () => Date.now(),
    );
    timer.arm();
    due = 1_200;
    timer.arm();
    due = 1_300;
    timer.arm();
    vi.advanceTimersByTime(200);
    expect(fired).toEqual([1_200]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() cancels it for good', () => {
    const fired: number[] = [];
    const timer = new LingerTimer(
      () => 1_100,
      (now) => fired.push(now),
      () => Date.now(),
    );
    timer.arm();
    timer.close();
    timer.arm();
    vi.advanceTimersByTime(1_000);
    expect(fired).toEqual([]);
  });
});
