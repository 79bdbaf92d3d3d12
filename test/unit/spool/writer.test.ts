import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoolWriteError } from '../../../src/spool/errors.js';
import { GroupCommitWriter, type WriteTarget } from '../../../src/spool/writer.js';

const directories: string[] = [];
function target(flags = 'w+'): WriteTarget {
  const directory = mkdtempSync(join(tmpdir(), 'kpl-writer-'));
  directories.push(directory);
  const path = join(directory, 'segment');
  closeSync(openSync(path, 'w'));
  return { fd: openSync(path, flags), path, size: 0, syncedSize: 0, sealed: false };
}
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function append(writer: GroupCommitWriter, into: WriteTarget, sequence: number, text: string): Promise<void> {
  const bytes = Buffer.from(text);
  const offset = writer.reserve(into, sequence, bytes.length);
  bytes.copy(writer.buffer, offset);
  return writer.durable();
}

describe('GroupCommitWriter', () => {
  it('covers the appends of one interval with one promise, written in order', async () => {
    const synced: number[] = [];
    const writer = new GroupCommitWriter({ synced: (_, last) => synced.push(last), failed: () => undefined }, 20);
    const file = target();
    const first = append(writer, file, 0, 'aa');
    const second = append(writer, file, 1, 'bb');
    expect(second).toBe(first);
    await first;
    const third = append(writer, file, 2, 'cc');
    expect(third).not.toBe(first);
    await third;
    expect(readFileSync(file.path, 'utf8')).toBe('aabbcc');
    expect(file.syncedSize).toBe(6);
    expect(synced).toEqual([1, 2]);
    closeSync(file.fd);
  });

  it('waits syncIntervalMs between the starts of two syncs', async () => {
    const writer = new GroupCommitWriter({ synced: () => undefined, failed: () => undefined }, 60);
    const file = target();
    await append(writer, file, 0, 'a');
    const start = performance.now();
    await append(writer, file, 1, 'b');
    expect(performance.now() - start).toBeGreaterThanOrEqual(40);
    closeSync(file.fd);
  });

  it('flushNow writes at once', async () => {
    const writer = new GroupCommitWriter({ synced: () => undefined, failed: () => undefined }, 60_000);
    const file = target();
    void append(writer, file, 0, 'now');
    await writer.flushNow();
    expect(readFileSync(file.path, 'utf8')).toBe('now');
    closeSync(file.fd);
  });

  it('rejects a failed write with SpoolWriteError naming the file, and rolls the target back', async () => {
    const failures: [number, number][] = [];
    const writer = new GroupCommitWriter({ synced: () => undefined, failed: (first, last) => failures.push([first, last]) }, 1);
    const file = target('r');
    const durable = append(writer, file, 4, 'xyz');
    await expect(durable).rejects.toBeInstanceOf(SpoolWriteError);
    await expect(durable).rejects.toThrow(file.path);
    expect(failures).toEqual([[4, 4]]);
    expect(file.size).toBe(0);
    closeSync(file.fd);
  });
});

describe('SpoolWriteError', () => {
  it('says ENOSPC in words with the path', () => {
    const cause = Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' });
    const error = new SpoolWriteError('/var/spool/kpl/0000000000000000.seg', cause, 'write to');
    expect(error.message).toContain('/var/spool/kpl/0000000000000000.seg');
    expect(error.message).toContain('no space left on the device');
    expect(error.errno).toBe('ENOSPC');
    expect(error.code).toBe('KPL_SPOOL_WRITE_FAILED');
  });
});
