import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameBytes } from '../../../src/spool/frame.js';
import { Spool } from '../../../src/spool/spool.js';
import { appendRecords, readAll, SpoolFixture, texts } from './helpers.js';

/*
 * A spool of 3 segments of 12 records each (payloads "r<i>" padded to 40 bytes), copied fresh into
 * a directory per case, then cut or damaged and opened again.
 */
const RECORDS = 36;
const PAYLOAD = 40;
const FRAME = frameBytes(PAYLOAD);
const fixture = new SpoolFixture();
let pristine: string;

beforeAll(async () => {
  pristine = fixture.directory();
  const spool = Spool.open({ directory: pristine, syncIntervalMs: 1, segmentBytes: FRAME * 12 });
  await appendRecords(spool, RECORDS, PAYLOAD);
  await spool.close();
});
afterAll(() => fixture.cleanUp());

function copy(): { directory: string; segments: string[] } {
  const directory = fixture.directory();
  rmSync(directory, { recursive: true });
  mkdirSync(directory);
  for (const name of readdirSync(pristine)) copyFileSync(join(pristine, name), join(directory, name));
  return {
    directory,
    segments: readdirSync(directory)
      .filter((name) => name.endsWith('.seg'))
      .sort(),
  };
}

async function reopen(directory: string): Promise<{ read: string[]; spool: Spool }> {
  const spool = Spool.open({ directory, syncIntervalMs: 1 });
  const read = texts(await readAll(spool, 5));
  return { read, spool };
}

const all = Array.from({ length: RECORDS }, (_, i) => `r${i}`);

describe('spool recovery', () => {
  it('has three full segments to work on', () => {
    const { segments, directory } = copy();
    expect(segments).toHaveLength(3);
    for (const name of segments) expect(statSync(join(directory, name)).size).toBe(FRAME * 12);
  });

  it('cuts a torn last frame at every byte offset and keeps every record before it', async () => {
    for (let cut = 0; cut < FRAME; cut++) {
      const { directory, segments } = copy();
      const last = join(directory, segments[2] as string);
      truncateSync(last, FRAME * 11 + cut);
      const { read, spool } = await reopen(directory);
      expect(read, `cut at ${cut}`).toEqual(all.slice(0, RECORDS - 1));
      expect(spool.stats.truncatedBytes).toBe(cut);
      expect(spool.stats.corrupt).toBe(0);
      expect(statSync(last).size).toBe(FRAME * 11);
      // The next append takes the torn record's place, and reads back after the others.
      spool.append(Buffer.from('after'));
      await spool.durable();
      expect(texts(await readAll(spool))).toEqual(['after']);
      await spool.close();
    }
  });

  it('skips and counts a record with any single byte damaged, in any segment, and keeps the rest', async () => {
    // Every byte of the first segment's 5th frame, and a sample of bytes everywhere else but the last frame.
    const offsets: { segment: number; at: number }[] = [];
    for (let at = FRAME * 4; at < FRAME * 5; at++) offsets.push({ segment: 0, at });
    for (let at = 3; at < FRAME * 12; at += 37) offsets.push({ segment: 1, at });
    for (let at = 5; at < FRAME * 11; at += 41) offsets.push({ segment: 2, at });
    for (const { segment, at } of offsets) {
      const { directory, segments } = copy();
      const path = join(directory, segments[segment] as string);
      const bytes = readFileSync(path);
      bytes[at] = (bytes[at] as number) ^ 0xa5;
      writeFileSync(path, bytes);
      const damaged = segment * 12 + Math.floor(at / FRAME);
      const { read, spool } = await reopen(directory);
      expect(read, `segment ${segment} byte ${at}`).toEqual(all.filter((_, i) => i !== damaged));
      expect(spool.stats.corrupt).toBe(1);
      expect(spool.records).toBe(RECORDS - 1);
      await spool.close();
      // The damaged record is done: the next process neither reads nor counts it again.
      const { read: again, spool: third } = await reopen(directory);
      expect(again).toEqual(all.filter((_, i) => i !== damaged));
      expect(third.stats.corrupt).toBe(0);
      await third.close();
    }
  });

  it('survives a segment damaged through to its end', async () => {
    const { directory, segments } = copy();
    const path = join(directory, segments[0] as string);
    const bytes = readFileSync(path);
    bytes.fill(0, FRAME * 6);
    writeFileSync(path, bytes);
    const { read, spool } = await reopen(directory);
    expect(read).toEqual(all.filter((_, i) => i < 6 || i >= 12));
    expect(spool.stats.corrupt).toBe(6);
    await spool.close();
  });
});
