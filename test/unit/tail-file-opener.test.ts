import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileOpener } from '../../src/cli/tail/file-opener.js';

describe('FileOpener', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-opener-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('logs an unreadable file once until it is readable again, and a missing one never', async () => {
    const logs: string[] = [];
    const opener = new FileOpener((message) => logs.push(message));
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    opener.cannotRead('/var/log/secret.log', denied);
    opener.cannotRead('/var/log/secret.log', denied);
    expect(await opener.open(path.join(directory, 'missing.log'))).toBeUndefined();
    expect(logs).toEqual(['cannot read /var/log/secret.log: EACCES: permission denied; trying again']);
    const file = path.join(directory, 'app.log');
    await writeFile(file, 'x\n');
    opener.cannotRead(file, denied);
    const handle = await opener.open(file);
    await handle?.close();
    opener.cannotRead(file, denied);
    expect(logs).toHaveLength(3);
  });
});
