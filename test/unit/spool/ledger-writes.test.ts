import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AckLedger } from '../../../src/spool/ledger.js';
import { LedgerWrites } from '../../../src/spool/ledger-writes.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function ledgers(count: number): AckLedger[] {
  const directory = mkdtempSync(join(tmpdir(), 'kpl-ledger-writes-'));
  directories.push(directory);
  return Array.from({ length: count }, (_, i) => AckLedger.load(join(directory, `${i}.acks`)));
}

function fileBytes(ledger: AckLedger): number {
  try {
    return readFileSync(ledger.path).length;
  } catch {
    return 0;
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('LedgerWrites', () => {
  it('writes the acknowledgements of one turn of the event loop together, after it', async () => {
    const held = ledgers(2);
    const writes = new LedgerWrites(() => held, undefined);
    held[0]?.markDone(0);
    writes.queue();
    held[1]?.markDone(3);
    writes.queue();
    expect(held.map(fileBytes)).toEqual([0, 0]);
    await vi.waitFor(() => expect(held.map(fileBytes)).toEqual([8, 8]));
    writes.close();
  });

  it('writes what is pending at close, synchronously, and queues nothing after', async () => {
    const held = ledgers(1);
    const writes = new LedgerWrites(() => held, undefined);
    held[0]?.markDone(1);
    writes.queue();
    writes.close();
    expect(fileBytes(held[0] as AckLedger)).toBe(8);
    await nextTurn();
    expect(AckLedger.load((held[0] as AckLedger).path).isDone(1)).toBe(true);
  });
});
