import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AckLedger } from '../../../src/spool/ledger.js';

const directories: string[] = [];
function ledgerPath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'kpl-ledger-'));
  directories.push(directory);
  return join(directory, '0000000000000000.acks');
}
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function write(ledger: AckLedger): Promise<void> {
  return new Promise((resolve, reject) => ledger.writePending(true, (error) => (error === undefined ? resolve() : reject(error))));
}

describe('AckLedger', () => {
  it('keeps out-of-order acknowledgements across a reload', async () => {
    const path = ledgerPath();
    const ledger = AckLedger.load(path, 8);
    for (const index of [5, 1, 3000, 2]) expect(ledger.markDone(index)).toBe(true);
    expect(ledger.markDone(5)).toBe(false);
    await write(ledger);
    ledger.close();
    const again = AckLedger.load(path);
    expect(again.doneCount).toBe(4);
    for (const index of [1, 2, 5, 3000]) expect(again.isDone(index)).toBe(true);
    for (const index of [0, 3, 4, 2999]) expect(again.isDone(index)).toBe(false);
  });

  it('ignores a torn entry and a damaged one', async () => {
    const path = ledgerPath();
    const ledger = AckLedger.load(path);
    ledger.markDone(1);
    ledger.markDone(2);
    await write(ledger);
    ledger.close();
    const bytes = readFileSync(path);
    bytes[8] = (bytes[8] as number) ^ 1;
    writeFileSync(path, bytes);
    appendFileSync(path, Buffer.from([7, 0, 0]));
    const again = AckLedger.load(path);
    expect(again.doneCount).toBe(1);
    expect(again.isDone(1)).toBe(true);
    expect(again.isDone(2)).toBe(false);
  });

  it('is empty when there is no file', () => {
    expect(AckLedger.load(ledgerPath()).doneCount).toBe(0);
  });
});
