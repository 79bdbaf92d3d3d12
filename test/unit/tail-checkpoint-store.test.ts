import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  type CheckpointEntry,
  loadCheckpoint,
  pruneEntries,
  saveCheckpoint,
} from '../../src/cli/tail/checkpoint-store.js';

const entry = (overrides: Partial<CheckpointEntry> = {}): CheckpointEntry => ({
  flow: 'default',
  dev: 1,
  ino: 2,
  path: '/var/log/app.log',
  head: 'aGVsbG8=',
  offset: 120,
  seenAt: 1_000,
  ...overrides,
});

describe('checkpoint store', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-checkpoint-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('has no entries before the first save', async () => {
    expect(await loadCheckpoint(path.join(directory, 'none.json'))).toBeUndefined();
  });

  it('saves and loads entries, leaving no temporary file behind', async () => {
    const file = path.join(directory, 'checkpoint.json');
    const entries = [entry(), entry({ ino: 3, path: '/var/log/app.log.1', offset: 0 })];
    await saveCheckpoint(file, entries);
    await saveCheckpoint(file, entries.slice(1));
    expect(await loadCheckpoint(file)).toEqual(entries.slice(1));
    expect(await readdir(directory)).toEqual(['checkpoint.json']);
  });

  it('rejects a file that is not a checkpoint, naming it', async () => {
    const file = path.join(directory, 'bad.json');
    await writeFile(file, '{"version":1,"files":[{"flow":"x"}]}');
    await expect(loadCheckpoint(file)).rejects.toThrow(CheckpointError);
    await writeFile(file, 'not json');
    await expect(loadCheckpoint(file)).rejects.toThrow(/bad\.json is not JSON/);
  });

  it('writes one JSON document a reader can parse at any time', async () => {
    const file = path.join(directory, 'checkpoint.json');
    await saveCheckpoint(file, [entry()]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, files: [entry()] });
  });

  it('prunes entries not seen within the TTL', () => {
    const entries = [entry({ seenAt: 1_000 }), entry({ ino: 9, seenAt: 9_000 })];
    expect(pruneEntries(entries, 10_000, 5_000)).toEqual([entries[1]]);
  });
});
