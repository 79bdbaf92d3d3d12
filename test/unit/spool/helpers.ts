import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool, type SpoolOptions } from '../../../src/spool/spool.js';
import type { SpoolEntry } from '../../../src/spool/reader.js';

/** Temporary directories and spools that a test opened, removed after it. */
export class SpoolFixture {
  readonly #directories: string[] = [];
  readonly #spools: Spool[] = [];

  directory(): string {
    const made = mkdtempSync(join(tmpdir(), 'kpl-spool-'));
    this.#directories.push(made);
    return made;
  }

  open(options: SpoolOptions): Spool {
    const spool = Spool.open(options);
    this.#spools.push(spool);
    return spool;
  }

  async cleanUp(): Promise<void> {
    for (const spool of this.#spools.splice(0)) await spool.close();
    for (const made of this.#directories.splice(0)) rmSync(made, { recursive: true, force: true });
  }
}

/** Reads every readable record, in batches of `batch`. */
export async function readAll(spool: Spool, batch = 1000): Promise<SpoolEntry[]> {
  const all: SpoolEntry[] = [];
  for (;;) {
    const entries = await spool.read(batch, 1 << 30);
    if (entries.length === 0) return all;
    all.push(...entries);
  }
}

/** Appends `count` payloads "r<i>" (padded to `size` bytes) and waits for their fsync. */
export async function appendRecords(spool: Spool, count: number, size = 0, from = 0): Promise<number[]> {
  const sequences: number[] = [];
  for (let i = from; i < from + count; i++) sequences.push(spool.append(Buffer.from(`r${i}`.padEnd(size, '.'))));
  await spool.durable();
  return sequences;
}

/** The payloads of entries as strings, padding removed. */
export function texts(entries: readonly SpoolEntry[]): string[] {
  return entries.map((entry) => entry.payload.toString().replace(/\.+$/, ''));
}
