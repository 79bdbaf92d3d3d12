import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync, readFileSync, write, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { SpoolWriteError } from './errors.js';

/*
 * The acknowledgement ledger of one segment: which of its records are done (stored by Kinesis,
 * failed for good, dropped for age, or lost to corruption), so that a restart sends only the rest.
 * Acknowledgements come in any order, so it is a set, not a cursor: an append-only file of 8-byte
 * entries, u32 index of the record in its segment | u32 CRC-32 of that index, little-endian.
 * A torn or damaged entry is ignored: at worst its record is sent again.
 */

const ENTRY_BYTES = 8;

/** The done-set of one segment, in memory as a bitmap and on disk as an append-only file. */
export class AckLedger {
  readonly path: string;
  #bits: Uint8Array;
  #doneCount = 0;
  #fd: number | undefined;
  #pending: number[] = [];
  #writing = false;
  #closeRequested = false;

  private constructor(path: string, bits: Uint8Array) {
    this.path = path;
    this.#bits = bits;
  }

  /** Loads the ledger at `path` (empty when there is none); `capacity` is a hint of the segment's record count. */
  static load(path: string, capacity = 1024): AckLedger {
    const ledger = new AckLedger(path, new Uint8Array(Math.ceil(capacity / 8)));
    if (!existsSync(path)) return ledger;
    const bytes = readFileSync(path);
    for (let offset = 0; offset + ENTRY_BYTES <= bytes.length; offset += ENTRY_BYTES) {
      const entry = bytes.subarray(offset, offset + 4);
      if (crc32(entry) !== bytes.readUInt32LE(offset + 4)) continue;
      ledger.#set(bytes.readUInt32LE(offset));
    }
    return ledger;
  }

  /** Records done, in this process or before. */
  get doneCount(): number {
    return this.#doneCount;
  }

  /** Whether the record at `index` is done. */
  isDone(index: number): boolean {
    const byte = index >>> 3;
    return byte < this.#bits.length && ((this.#bits[byte] as number) & (1 << (index & 7))) !== 0;
  }

  /** Marks the record at `index` done; written by the next {@link writePending}. Returns false if it already was. */
  markDone(index: number): boolean {
    if (!this.#set(index)) return false;
    this.#pending.push(index);
    return true;
  }

  /** Appends the entries marked since the last call; a crash before it only makes those records go out again. */
  writePending(sync: boolean, done: (error: SpoolWriteError | undefined) => void): void {
    if (this.#writing || this.#pending.length === 0) {
      done(undefined);
      return;
    }
    const pending = this.#pending;
    this.#pending = [];
    const bytes = encodeEntries(pending);
    let fd: number;
    try {
      fd = this.#fd ??= openSync(this.path, 'a', 0o644);
    } catch (error) {
      this.#pending = pending.concat(this.#pending);
      done(new SpoolWriteError(this.path, error as NodeJS.ErrnoException, 'open'));
      return;
    }
    this.#writing = true;
    write(fd, bytes, 0, bytes.length, null, (writeError) => {
      const finish = (error: NodeJS.ErrnoException | null): void => {
        this.#writing = false;
        if (this.#closeRequested) this.#closeFile();
        done(error === null ? undefined : new SpoolWriteError(this.path, error, 'write to'));
        // Entries marked while this write ran go out now rather than wait for the next acknowledgement.
        if (error === null && this.#pending.length > 0 && !this.#closeRequested) this.writePending(sync, () => undefined);
      };
      if (writeError !== null || !sync) finish(writeError);
      else fdatasync(fd, finish);
    });
  }

  /** Writes the entries marked since the last write and syncs them, now; for closing. */
  writePendingSync(): void {
    if (this.#pending.length === 0) return;
    const bytes = encodeEntries(this.#pending);
    this.#pending = [];
    try {
      const fd = (this.#fd ??= openSync(this.path, 'a', 0o644));
      writeSync(fd, bytes);
      fdatasyncSync(fd);
    } catch (error) {
      throw new SpoolWriteError(this.path, error as NodeJS.ErrnoException, 'write to');
    }
  }

  /** Closes the file once a write in progress ends; entries marked and not written are lost (their records go out again). */
  close(): void {
    this.#closeRequested = true;
    if (!this.#writing) this.#closeFile();
  }

  #closeFile(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // Already closed: nothing more to release.
    }
    this.#fd = undefined;
  }

  #set(index: number): boolean {
    const byte = index >>> 3;
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.#bits.length * 2));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const mask = 1 << (index & 7);
    const current = this.#bits[byte] as number;
    if ((current & mask) !== 0) return false;
    this.#bits[byte] = current | mask;
    this.#doneCount++;
    return true;
  }
}

function encodeEntries(indexes: readonly number[]): Buffer {
  const bytes = Buffer.allocUnsafe(indexes.length * ENTRY_BYTES);
  for (let i = 0; i < indexes.length; i++) {
    const offset = i * ENTRY_BYTES;
    bytes.writeUInt32LE(indexes[i] as number, offset);
    bytes.writeUInt32LE(crc32(bytes.subarray(offset, offset + 4)), offset + 4);
  }
  return bytes;
}
