import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findMatchedFiles, GrowingFiles, inodeKey } from '../../src/cli/tail/file-discovery.js';

describe('findMatchedFiles', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-discovery-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('lists the regular files matched, in name order, each inode once', async () => {
    await writeFile(path.join(directory, 'b.log'), 'bb\n');
    await writeFile(path.join(directory, 'a.log'), 'a\n');
    await link(path.join(directory, 'a.log'), path.join(directory, 'c.log'));
    await mkdir(path.join(directory, 'd.log'));
    await writeFile(path.join(directory, 'e.txt'), '');
    const found = await findMatchedFiles([path.join(directory, '*.log')], () => undefined);
    expect(found.map((file) => [path.basename(file.path), file.size])).toEqual([
      ['a.log', 2],
      ['b.log', 3],
    ]);
    expect(new Set(found.map(inodeKey)).size).toBe(2);
  });
});

describe('GrowingFiles', () => {
  it('calls a file stable once its size held since it was last seen, and keeps when it was first seen', () => {
    const growing = new GrowingFiles();
    expect(growing.look('1:2', 10, 100)).toEqual({ stable: false, since: 100 });
    growing.wait('1:2', 10, 100);
    expect(growing.look('1:2', 20, 400)).toEqual({ stable: false, since: 100 });
    growing.wait('1:2', 20, 100);
    expect(growing.look('1:2', 20, 700)).toEqual({ stable: true, since: 100 });
    growing.forget('1:2');
    expect(growing.look('1:2', 20, 900)).toEqual({ stable: false, since: 900 });
  });

  it('forgets the files no pattern matched at a scan', () => {
    const growing = new GrowingFiles();
    growing.wait('1:2', 10, 100);
    growing.wait('1:3', 10, 100);
    growing.keepOnly(new Set(['1:3']));
    expect(growing.look('1:2', 10, 500).stable).toBe(false);
    expect(growing.look('1:3', 10, 500).stable).toBe(true);
  });
});
