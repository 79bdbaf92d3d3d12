import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileCursor } from '../../src/cli/tail/file-cursor.js';
import { copySource, readHead, startsWith } from '../../src/cli/tail/file-identity.js';

describe('file identity', () => {
  let directory: string;
  const handles: FileHandle[] = [];
  const opened = async (name: string, text: string): Promise<FileHandle> => {
    const file = path.join(directory, name);
    await writeFile(file, text);
    const handle = await open(file, 'r');
    handles.push(handle);
    return handle;
  };
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-identity-'));
  });
  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('reads a head, shorter when the file is', async () => {
    const handle = await opened('a', 'abc');
    expect((await readHead(handle, 2)).toString()).toBe('ab');
    expect((await readHead(handle, 10)).toString()).toBe('abc');
    expect(await startsWith(handle, Buffer.from('ab'))).toBe(true);
    expect(await startsWith(handle, Buffer.from('b'))).toBe(false);
    expect(await startsWith(handle, Buffer.alloc(0))).toBe(true);
  });

  it('finds the source a file copies, tells a file that only begins alike, and says maybe while the copy is shorter', async () => {
    const original = await opened('original', 'line 1\nline 2\n');
    const cursor = FileCursor.atStart({ format: 'lines' });
    await cursor.readFrom(original, 1024, () => undefined);
    const source = { cursor };
    const copy = await opened('copy', 'line 1\nline 2\nline 3\n');
    const alike = await opened('alike', 'line 1\nline X\nline 3\n');
    const partial = await opened('partial', 'line 1\n');
    expect(await copySource(copy, await readHead(copy, 1024), 21, [source])).toBe(source);
    expect(await copySource(alike, await readHead(alike, 1024), 21, [source])).toBeUndefined();
    expect(await copySource(partial, await readHead(partial, 1024), 7, [source])).toBe('maybe');
    expect(await copySource(copy, await readHead(copy, 1024), 21, [{ cursor: undefined }])).toBeUndefined();
  });
});
