import { describe, expect, it } from 'vitest';
import { RecordBacklog } from '../../src/cli/tail/record-backlog.js';

describe('RecordBacklog', () => {
  it('hands records on in the order they came', () => {
    const backlog = new RecordBacklog<number>();
    for (let i = 0; i < 10_000; i++) backlog.push(i);
    const taken: number[] = [];
    for (let i = 0; i < 5000; i++) taken.push(backlog.shift() as number);
    backlog.push(10_000);
    while (backlog.size > 0) taken.push(backlog.shift() as number);
    expect(taken).toEqual(Array.from({ length: 10_001 }, (_, i) => i));
    expect(backlog.shift()).toBeUndefined();
  });

  it('peek() shows the front without taking it', () => {
    const backlog = new RecordBacklog<string>();
    expect(backlog.peek()).toBeUndefined();
    backlog.push('a');
    backlog.push('b');
    expect(backlog.peek()).toBe('a');
    expect(backlog.size).toBe(2);
  });

  it('whenEmpty() resolves at once when empty, else once the last record is taken', async () => {
    const backlog = new RecordBacklog<string>();
    await backlog.whenEmpty();
    backlog.push('a');
    backlog.push('b');
    let empty = false;
    void backlog.whenEmpty().then(() => (empty = true));
    backlog.shift();
    await Promise.resolve();
    expect(empty).toBe(false);
    backlog.shift();
    await Promise.resolve();
    expect(empty).toBe(true);
  });
});
