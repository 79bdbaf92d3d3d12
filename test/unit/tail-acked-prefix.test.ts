import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AckedPrefix } from '../../src/cli/tail/acked-prefix.js';

describe('AckedPrefix', () => {
  it('starts at the offset reading starts from', () => {
    expect(new AckedPrefix(500).offset).toBe(500);
  });

  it('advances only over a contiguous run of settled records', () => {
    const acks = new AckedPrefix(0);
    const [a, b, c] = [acks.track(10), acks.track(20), acks.track(30)] as [number, number, number];
    acks.settle(b);
    expect(acks.offset).toBe(0);
    acks.settle(c);
    expect(acks.offset).toBe(0);
    acks.settle(a);
    expect(acks.offset).toBe(30);
    expect(acks.pending).toBe(0);
  });

  it('waits for every record that shares a line end (a line split into several records)', () => {
    const acks = new AckedPrefix(0);
    const first = acks.track(100);
    const second = acks.track(100);
    acks.settle(first);
    expect(acks.offset).toBe(0);
    acks.settle(second);
    expect(acks.offset).toBe(100);
  });

  it('ignores a ticket settled twice or never issued', () => {
    const acks = new AckedPrefix(0);
    const ticket = acks.track(5);
    acks.settle(ticket);
    acks.settle(ticket);
    acks.settle(99);
    expect(acks.offset).toBe(5);
  });

  it('in any settlement order, stands at the end of the longest settled prefix', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 3000 }),
        fc.infiniteStream(fc.nat()),
        (lengths, picks) => {
          const acks = new AckedPrefix(0);
          const ends: number[] = [];
          let end = 0;
          for (const length of lengths) ends.push((end += length));
          const tickets = ends.map((offset) => acks.track(offset));
          const settled = new Array<boolean>(tickets.length).fill(false);
          const order = [...tickets.keys()];
          const iterator = picks[Symbol.iterator]();
          while (order.length > 0) {
            const index = order.splice((iterator.next().value as number) % order.length, 1)[0] as number;
            acks.settle(tickets[index] as number);
            settled[index] = true;
            const prefix = settled.indexOf(false);
            expect(acks.offset).toBe(prefix === 0 ? 0 : ends[(prefix === -1 ? ends.length : prefix) - 1]);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
