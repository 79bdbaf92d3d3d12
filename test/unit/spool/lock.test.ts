import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoolLockedError } from '../../../src/spool/errors.js';
import { acquireLock, LOCK_FILE } from '../../../src/spool/lock.js';

const directories: string[] = [];
function directory(): string {
  const made = mkdtempSync(join(tmpdir(), 'kpl-lock-'));
  directories.push(made);
  return made;
}
afterEach(() => {
  for (const made of directories.splice(0)) rmSync(made, { recursive: true, force: true });
});

describe('spool lock', () => {
  it('writes our pid and removes the file on release', () => {
    const dir = directory();
    const release = acquireLock(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses a directory held by a live process, naming it', () => {
    const dir = directory();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, LOCK_FILE), `${child.pid}\n`);
      let caught: unknown;
      try {
        acquireLock(dir);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SpoolLockedError);
      expect((caught as SpoolLockedError).pid).toBe(child.pid);
      expect((caught as Error).message).toContain(`process ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over the lock of a dead process', async () => {
    const dir = directory();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = child.pid as number;
    await new Promise((resolve) => child.on('exit', resolve));
    writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
    const release = acquireLock(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
  });
});
