import type { FileHandle } from 'node:fs/promises';
import type { CheckpointEntry } from './checkpoint-store.js';
import type { MatchedFile } from './file-discovery.js';
import { startsWith } from './file-identity.js';

/**
 * The checkpoint entries of one flow that no followed file has claimed yet. A file claims the
 * entry of its inode when it still begins as the entry says (an inode is reused once its file is
 * deleted); a new file claims an entry whose first bytes it begins with, when the entry's file was
 * copied and truncated while `kpl tail` was stopped. Unclaimed entries are kept, and saved again,
 * until their TTL, so that a file that comes back resumes.
 */
export class RestoredEntries {
  #entries: CheckpointEntry[];
  /** True when the flow started from a checkpoint (which may hold no entry for it). */
  readonly hadCheckpoint: boolean;

  /** @param entries this flow's checkpoint entries; undefined when there was no checkpoint. */
  constructor(entries: readonly CheckpointEntry[] | undefined) {
    this.#entries = [...(entries ?? [])];
    this.hadCheckpoint = entries !== undefined;
  }

  /** The entries not claimed yet, to be saved again. */
  get unclaimed(): readonly CheckpointEntry[] {
    return this.#entries;
  }

  /** True when some entry is for this file's inode and within its size: worth opening the file to check its head. */
  mayResume(file: MatchedFile): boolean {
    return this.#entries.some((entry) => isFor(entry, file));
  }

  /** Claims the entry of this file's inode whose first bytes the open file still begins with. */
  async claimResumed(file: MatchedFile, handle: FileHandle): Promise<CheckpointEntry | undefined> {
    for (const entry of this.#entries.filter((candidate) => isFor(candidate, file))) {
      if (!(await startsWith(handle, Buffer.from(entry.head, 'base64')))) continue;
      this.#claim(entry);
      return entry;
    }
    return undefined;
  }

  /** Claims an entry, read past its start, of content that a new file of `size` bytes beginning with `head` holds: a copy made while stopped. */
  claimCopied(head: Buffer, size: number): CheckpointEntry | undefined {
    const copied = this.#entries.find((entry) => {
      if (entry.offset === 0 || entry.offset > size) return false;
      const entryHead = Buffer.from(entry.head, 'base64');
      return head.subarray(0, entryHead.length).equals(entryHead);
    });
    if (copied !== undefined) this.#claim(copied);
    return copied;
  }

  /** Forgets the entries not seen within `ttlMs` before `now`. */
  expire(now: number, ttlMs: number): void {
    this.#entries = this.#entries.filter((entry) => now - entry.seenAt <= ttlMs);
  }

  #claim(entry: CheckpointEntry): void {
    this.#entries = this.#entries.filter((other) => other !== entry);
  }
}

function isFor(entry: CheckpointEntry, file: MatchedFile): boolean {
  return entry.dev === file.dev && entry.ino === file.ino && entry.offset <= file.size;
}
