import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferFullError } from '../../../src/records.js';
import { SpoolLockedError, SpoolWriteError } from '../../../src/spool/errors.js';
import { Spool } from '../../../src/spool/spool.js';
import { appendRecords, readAll, SpoolFixture, texts } from './helpers.js';

const fixture = new SpoolFixture();
afterEach(() => fixture.cleanUp());

function segmentFiles(directory: string): string[] {
  return readdirSync(directory).filter((name) => name.endsWith('.seg'));
}

describe('Spool', () => {
  it('reads back in order what was appended, once synced', async () => {
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 5 });
    const sequences = await appendRecords(spool, 100);
    expect(sequences).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(spool.records).toBe(100);
    const entries = await readAll(spool, 7);
    expect(texts(entries)).toEqual(Array.from({ length: 100 }, (_, i) => `r${i}`));
    expect(await spool.read(10, 1000)).toEqual([]);
  });

  it('reads nothing that is not yet synced', async () => {
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 50 });
    spool.append(Buffer.from('a'));
    expect(spool.readable).toBe(false);
    expect(await spool.read(10, 1000)).toEqual([]);
    await spool.whenReadable();
    expect(texts(await spool.read(10, 1000))).toEqual(['a']);
  });

  it('resends after a restart only what was not acknowledged, acknowledged in any order', async () => {
    const directory = fixture.directory();
    const first = Spool.open({ directory, syncIntervalMs: 1 });
    await appendRecords(first, 10);
    const read = await readAll(first);
    for (const sequence of [7, 0, 3, 9, 1]) first.acknowledge(sequence, 'delivered');
    await first.close();
    const second = fixture.open({ directory, syncIntervalMs: 1 });
    expect(read).toHaveLength(10);
    expect(second.stats.recovered).toBe(5);
    expect(texts(await readAll(second))).toEqual(['r2', 'r4', 'r5', 'r6', 'r8']);
    await appendRecords(second, 2, 0, 10);
    expect(texts(await readAll(second))).toEqual(['r10', 'r11']);
  });

  it('deletes a segment once every record in it is done, and resolves whenDone', async () => {
    const directory = fixture.directory();
    const spool = fixture.open({ directory, syncIntervalMs: 1, segmentBytes: 1000 });
    await appendRecords(spool, 200, 20);
    expect(segmentFiles(directory).length).toBeGreaterThan(3);
    const done = spool.whenDone();
    const entries = await readAll(spool);
    const bytesBefore = spool.bytes;
    for (const entry of entries.slice().reverse()) spool.acknowledge(entry.sequence, 'delivered');
    await done;
    expect(spool.records).toBe(0);
    expect(spool.bytes).toBeLessThan(bytesBefore);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(segmentFiles(directory)).toHaveLength(1);
    expect(spool.stats.delivered).toBe(200);
  });

  it('refuses an append at maxBytes and wakes a waiter when a segment is freed', async () => {
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1, maxBytes: 4096, segmentBytes: 1024 });
    let appended = 0;
    while (spool.hasRoom(100)) {
      spool.append(Buffer.alloc(100));
      appended++;
    }
    await spool.durable();
    expect(() => spool.append(Buffer.alloc(100))).toThrow(BufferFullError);
    try {
      spool.append(Buffer.alloc(100));
    } catch (error) {
      expect((error as BufferFullError).field).toBe('spool.maxBytes');
      expect((error as BufferFullError).limit).toBe(4096);
      expect((error as Error).message).toContain(spool.directory);
    }
    let woke = false;
    const room = spool.waitForRoom(100).then(() => {
      woke = true;
    });
    const entries = await spool.read(10, 1 << 20);
    for (const entry of entries) spool.acknowledge(entry.sequence, 'delivered');
    await room;
    expect(woke).toBe(true);
    expect(appended).toBeGreaterThan(20);
  });

  it('says which records are older than maxAgeMs, and counts them once acknowledged as expired', async () => {
    let now = 1_000_000;
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1, maxAgeMs: 1000, now: () => now });
    await appendRecords(spool, 3);
    now += 500;
    await appendRecords(spool, 2, 0, 3);
    now += 600;
    const entries = await readAll(spool);
    expect(entries.map((entry) => spool.isExpired(entry))).toEqual([true, true, true, false, false]);
    for (const entry of entries.slice(0, 3)) spool.acknowledge(entry.sequence, 'expired');
    expect(spool.stats.expired).toBe(3);
    expect(spool.records).toBe(2);
  });

  it('refuses a second opener of the same directory with SpoolLockedError', () => {
    const directory = fixture.directory();
    fixture.open({ directory });
    writeFileSync(join(directory, 'LOCK'), `${process.ppid}\n`);
    expect(() => Spool.open({ directory })).toThrow(SpoolLockedError);
  });

  it('refuses a directory it cannot write with SpoolWriteError naming it', () => {
    if (process.getuid?.() === 0) return;
    const directory = fixture.directory();
    chmodSync(directory, 0o500);
    try {
      expect(() => Spool.open({ directory })).toThrow(SpoolWriteError);
      expect(() => Spool.open({ directory })).toThrow(directory);
    } finally {
      chmodSync(directory, 0o700);
    }
  });
});

describe('Spool reading back', () => {
  it('reads frames of every size across chunk boundaries, in small batches', async () => {
    const spool = fixture.open({ directory: fixture.directory(), syncIntervalMs: 1 });
    const sizes = [10, 70_000, 100, 300_000, 5, 200_000, 65_536, 1, 1_000_000, 42];
    for (let round = 0; round < 3; round++) for (const size of sizes) spool.append(Buffer.alloc(size, round));
    await spool.durable();
    const read: number[] = [];
    for (;;) {
      const entries = await spool.read(2, 150_000);
      if (entries.length === 0) break;
      read.push(...entries.map((entry) => entry.payload.length));
    }
    expect(read).toEqual([...sizes, ...sizes, ...sizes]);
  });
});
