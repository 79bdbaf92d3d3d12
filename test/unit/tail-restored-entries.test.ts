import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckpointEntry } from '../../src/cli/tail/checkpoint-store.js';
import { RestoredEntries } from '../../src/cli/tail/restored-entries.js';

const entry = (fields: Partial<CheckpointEntry>): CheckpointEntry => ({
  flow: 'f',
  dev: 1,
  ino: 2,
  path: '/var/log/app.log',
  head: Buffer.from('first line\n').toString('base64'),
  offset: 11,
  seenAt: 1000,
  ...fields,
});

describe('RestoredEntries', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-restored-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('tells a flow without a checkpoint from one with an empty checkpoint', () => {
    expect(new RestoredEntries(undefined).hadCheckpoint).toBe(false);
    expect(new RestoredEntries([]).hadCheckpoint).toBe(true);
  });

  it("lets a file claim its inode's entry only while it still begins as the entry says", async () => {
    const file = path.join(directory, 'app.log');
    await writeFile(file, 'first line\nsecond line\n');
    const restored = new RestoredEntries([entry({ head: Buffer.from('other start').toString('base64') }), entry({})]);
    const matched = { path: file, dev: 1, ino: 2, size: 23 };
    expect(restored.mayResume(matched)).toBe(true);
    expect(restored.mayResume({ ...matched, ino: 3 })).toBe(false);
    expect(restored.mayResume({ ...matched, size: 5 })).toBe(false);
    const handle = await open(file, 'r');
    try {
      expect((await restored.claimResumed(matched, handle))?.offset).toBe(11);
    } finally {
      await handle.close();
    }
    expect(restored.unclaimed).toHaveLength(1);
  });

  it('lets a new file claim an entry read past its start whose first bytes it begins with (a copy made while stopped)', () => {
    const restored = new RestoredEntries([entry({ offset: 0 }), entry({ offset: 11 })]);
    expect(restored.claimCopied(Buffer.from('first line\nmore'), 5)).toBeUndefined();
    expect(restored.claimCopied(Buffer.from('another file'), 100)).toBeUndefined();
    expect(restored.claimCopied(Buffer.from('first line\nmore'), 100)?.offset).toBe(11);
    expect(restored.unclaimed.map((left) => left.offset)).toEqual([0]);
  });

  it('forgets entries past their TTL', () => {
    const restored = new RestoredEntries([entry({ seenAt: 1000 }), entry({ seenAt: 5000 })]);
    restored.expire(6000, 2000);
    expect(restored.unclaimed.map((left) => left.seenAt)).toEqual([5000]);
  });
});
