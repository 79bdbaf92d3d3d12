import { afterEach, describe, expect, it } from 'vitest';
import { ProducerClosedError } from '../../../src/records.js';
import { DurableAppender } from '../../../src/spool/durable-append.js';
import { frameBytes } from '../../../src/spool/frame.js';
import { readAll, SpoolFixture, texts } from './helpers.js';

const fixture = new SpoolFixture();
afterEach(() => fixture.cleanUp());

describe('DurableAppender', () => {
  it('resolves once the record is durable', async () => {
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1 });
    const appender = new DurableAppender(spool, undefined);
    await appender.append(Buffer.from('one'));
    expect(texts(await readAll(spool))).toEqual(['one']);
  });

  it('at maxBytes, appends in the order taken as room comes', async () => {
    const frame = frameBytes(2);
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1, maxBytes: frame * 2, segmentBytes: frame });
    const appender = new DurableAppender(spool, undefined);
    await appender.append(Buffer.from('r0'));
    await appender.append(Buffer.from('r1'));
    const later = [appender.append(Buffer.from('r2')), appender.append(Buffer.from('r3'))];
    const first = await readAll(spool);
    expect(texts(first)).toEqual(['r0', 'r1']);
    for (const entry of first) spool.acknowledge(entry.sequence, 'delivered');
    await Promise.all(later);
    expect(texts(await readAll(spool))).toEqual(['r2', 'r3']);
  });

  it('rejects an append still waiting for room with ProducerClosedError once stopped', async () => {
    const frame = frameBytes(2);
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1, maxBytes: frame, segmentBytes: frame });
    const appender = new DurableAppender(spool, undefined);
    await appender.append(Buffer.from('r0'));
    const waiting = appender.append(Buffer.from('r1'));
    appender.stop();
    await spool.close();
    await expect(waiting).rejects.toBeInstanceOf(ProducerClosedError);
  });
});

describe('DurableAppender at once', () => {
  it('gives the appends synced together one promise', async () => {
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 50 });
    const appender = new DurableAppender(spool, undefined);
    const first = appender.append(Buffer.from('a'));
    const second = appender.append(Buffer.from('b'));
    expect(second).toBe(first);
    await first;
    const third = appender.append(Buffer.from('c'));
    expect(third).not.toBe(first);
    await third;
    expect(texts(await readAll(spool))).toEqual(['a', 'b', 'c']);
  });
});
