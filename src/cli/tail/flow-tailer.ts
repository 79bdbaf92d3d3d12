import { createHash } from 'node:crypto';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import type { LineRecord, LineRecordOptions } from '../lines/line-record-options.js';
import type { AckedPrefix } from './acked-prefix.js';
import type { CheckpointEntry } from './checkpoint-store.js';
import { CONTENT_DIGEST, FileCursor, HEAD_BYTES, type RecordEmitter } from './file-cursor.js';
import type { FlowEvents, FlowSpec } from './flow.js';

/** Where the records a flow reads go. */
export interface RecordSink {
  /** Sends one record; settling it in `acks` (once stored) moves the checkpoint past `endOffset`. */
  send(record: LineRecord, stream: string, acks: AckedPrefix, endOffset: number): void;
  /** Resolves when there is room for more records; at once when there is. */
  ready(): Promise<void>;
}

/** How long the tailer waits before it acts on quiet files. */
export interface TailTiming {
  /** A file that no pattern matches any more (renamed or deleted) is read until it has been quiet this long, then closed. @default 5000 */
  readonly rotatedIdleMs: number;
  /** A matched file quiet this long is closed, and opened again when it grows. @default 300000 */
  readonly idleCloseMs: number;
  /** A multi-line record waiting this long for its next line is sent as it is. @default 2000 */
  readonly multilineIdleMs: number;
  /** A new file that begins like a followed file, and may be its copy still being written, waits at most this long to be told apart. @default 2000 */
  readonly copyWaitMs: number;
  /** The content of a truncated file waits this long for its copy (copytruncate) to appear. @default 30000 */
  readonly orphanGraceMs: number;
  /** Files gone, and checkpoint entries unmatched, for longer than this are forgotten. @default 7 days */
  readonly ttlMs: number;
}

/** The defaults of {@link TailTiming}. */
export const DEFAULT_TIMING: TailTiming = {
  rotatedIdleMs: 5000,
  idleCloseMs: 300_000,
  multilineIdleMs: 2000,
  copyWaitMs: 2000,
  orphanGraceMs: 30_000,
  ttlMs: 7 * 24 * 3600 * 1000,
};

/** Lines that fail to parse, logged one by one per flow before they are only counted. */
const PROBLEMS_SHOWN = 5;
/** Bytes one file may read in one pass, so that every file gets its turn. */
const READ_BUDGET_BYTES = 4 * 1024 * 1024;

interface TrackedFile {
  readonly dev: number;
  readonly ino: number;
  path: string;
  handle: FileHandle | undefined;
  /** Undefined for a copy of a file still followed: it is read only once its original is truncated or gone. */
  cursor: FileCursor | undefined;
  shadowOf: TrackedFile | undefined;
  size: number;
  lastGrowthAt: number;
  seenAt: number;
  matched: boolean;
  pendingFlushed: boolean;
}

interface Candidate {
  readonly size: number;
  readonly since: number;
}

interface Orphan {
  readonly cursor: FileCursor;
  readonly dev: number;
  readonly ino: number;
  readonly path: string;
  readonly since: number;
}

interface Found {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
}

/**
 * Follows the files of one flow. A file is known by its device and inode, checked against its first
 * bytes (an inode is reused once its file is deleted), so a rename keeps its place and a new file
 * under the old name starts afresh. Every matched file is read at once, to its end, so a renamed
 * file is finished while its successor starts. A truncated file is read again from its start; its
 * old content, if a matched file turns out to be a copy of it (copytruncate), continues there.
 */
export class FlowTailer {
  readonly #spec: FlowSpec;
  readonly #sink: RecordSink;
  readonly #events: FlowEvents;
  readonly #timing: TailTiming;
  readonly #now: () => number;
  readonly #files = new Map<string, TrackedFile>();
  readonly #candidates = new Map<string, Candidate>();
  readonly #unreadable = new Set<string>();
  #orphans: Orphan[] = [];
  /** Checkpoint entries no file has claimed yet. */
  #restored: CheckpointEntry[];
  readonly #hadCheckpoint: boolean;
  #scans = 0;
  readonly #emit: RecordEmitter;
  /** The flow's reader options, with problems logged (the first few). */
  readonly #reader: LineRecordOptions;

  /** @param restored this flow's checkpoint entries; undefined when there was no checkpoint. */
  constructor(
    spec: FlowSpec,
    sink: RecordSink,
    events: FlowEvents,
    restored: readonly CheckpointEntry[] | undefined,
    options: { readonly timing?: TailTiming; readonly now?: () => number } = {},
  ) {
    this.#spec = spec;
    this.#sink = sink;
    this.#events = events;
    this.#timing = options.timing ?? DEFAULT_TIMING;
    this.#now = options.now ?? Date.now;
    this.#restored = [...(restored ?? [])];
    this.#hadCheckpoint = restored !== undefined;
    this.#emit = (record, acks, endOffset) => sink.send(record, spec.stream, acks, endOffset);
    let problemsShown = 0;
    this.#reader = {
      ...spec.reader,
      onProblem: (problem) => {
        if (problemsShown++ < PROBLEMS_SHOWN) events.log(`flow ${spec.name}: ${problem.message} (${problem.code})`);
      },
    };
  }

  /** The flow this tailer follows. */
  get spec(): FlowSpec {
    return this.#spec;
  }

  /** Finds the files the patterns match now: new ones, renamed ones, and ones that came back. */
  async scan(): Promise<void> {
    const now = this.#now();
    const initial = this.#scans++ === 0;
    let paths: string[];
    try {
      paths = await glob([...this.#spec.patterns], { absolute: true, onlyFiles: true, expandDirectories: false, dot: true });
    } catch (error) {
      this.#events.log(`flow ${this.#spec.name}: cannot list its patterns: ${(error as Error).message}`);
      return;
    }
    const found: Found[] = [];
    const keys = new Set<string>();
    for (const filePath of paths.sort()) {
      try {
        const stats = await stat(filePath);
        const key = `${stats.dev}:${stats.ino}`;
        if (!stats.isFile() || keys.has(key)) continue;
        keys.add(key);
        found.push({ path: filePath, dev: stats.dev, ino: stats.ino, size: stats.size });
      } catch (error) {
        this.#cannotRead(filePath, error);
      }
    }
    for (const file of this.#files.values()) file.matched = false;
    const unknown: Found[] = [];
    for (const entry of found) {
      const tracked = this.#files.get(`${entry.dev}:${entry.ino}`);
      if (tracked !== undefined) await this.#revisit(tracked, entry, now);
      else if (!(await this.#resume(entry, now))) unknown.push(entry);
    }
    for (const entry of unknown) await this.#discover(entry, now, initial);
    for (const key of this.#candidates.keys()) if (!keys.has(key)) this.#candidates.delete(key);
    this.#expire(now);
  }

  /** Reads every open file from where it stands; resolves true when some file has more to read at once. */
  async read(stopped: () => boolean): Promise<boolean> {
    let more = false;
    for (const file of [...this.#files.values()]) {
      if (stopped()) return false;
      if (file.handle === undefined || file.cursor === undefined) continue;
      try {
        if (await this.#readFile(file, file.handle, stopped)) more = true;
      } catch (error) {
        this.#cannotRead(file.path, error);
        await this.#close(file);
      }
    }
    return more;
  }

  /** Where every file stands, for the checkpoint. */
  checkpointEntries(): CheckpointEntry[] {
    const entries: CheckpointEntry[] = [];
    const entry = (dev: number, ino: number, filePath: string, cursor: FileCursor, seenAt: number): CheckpointEntry => ({
      flow: this.#spec.name,
      dev,
      ino,
      path: filePath,
      head: cursor.head.toString('base64'),
      offset: cursor.acks.offset,
      seenAt,
    });
    for (const file of this.#files.values()) {
      if (file.cursor !== undefined) entries.push(entry(file.dev, file.ino, file.path, file.cursor, file.seenAt));
    }
    for (const orphan of this.#orphans) entries.push(entry(orphan.dev, orphan.ino, orphan.path, orphan.cursor, orphan.since));
    return [...entries, ...this.#restored];
  }

  /** Bytes of each open file not yet stored in the stream. */
  bytesBehind(): Array<{ readonly path: string; readonly bytes: number }> {
    const behind: Array<{ path: string; bytes: number }> = [];
    for (const file of this.#files.values()) {
      if (file.handle !== undefined && file.cursor !== undefined)
        behind.push({ path: file.path, bytes: Math.max(0, file.size - file.cursor.acks.offset) });
    }
    return behind;
  }

  /** Files open for reading. */
  get openFiles(): number {
    let open = 0;
    for (const file of this.#files.values()) if (file.handle !== undefined) open++;
    return open;
  }

  /** Closes every file; their places stay in {@link checkpointEntries}. */
  async close(): Promise<void> {
    for (const file of this.#files.values()) await this.#close(file);
  }

  async #revisit(file: TrackedFile, found: Found, now: number): Promise<void> {
    file.matched = true;
    file.seenAt = now;
    if (file.path !== found.path) {
      this.#events.onRotation(this.#spec.name, 'rename');
      this.#events.log(`${file.path} is now ${found.path}; reading on from where it stands`);
      file.path = found.path;
    }
    if (file.handle !== undefined || file.cursor === undefined || found.size === file.size) return;
    const handle = await this.#open(found.path);
    if (handle === undefined) return;
    file.handle = handle;
    if (found.size < file.cursor.readOffset || !(await startsWith(handle, file.cursor.head))) await this.#truncated(file, now);
  }

  /** Claims the checkpoint entry of this inode, when the file still begins as it did: resolves true when it did. */
  async #resume(found: Found, now: number): Promise<boolean> {
    const candidates = this.#restored.filter((entry) => entry.dev === found.dev && entry.ino === found.ino && entry.offset <= found.size);
    if (candidates.length === 0) return false;
    const handle = await this.#open(found.path);
    if (handle === undefined) return true;
    for (const entry of candidates) {
      if (!(await startsWith(handle, Buffer.from(entry.head, 'base64')))) continue;
      this.#restored = this.#restored.filter((other) => other !== entry);
      this.#track(found, handle, await FileCursor.at(handle, entry.offset, this.#reader), now);
      return true;
    }
    await handle.close();
    return false;
  }

  async #discover(found: Found, now: number, initial: boolean): Promise<void> {
    const key = `${found.dev}:${found.ino}`;
    const candidate = this.#candidates.get(key);
    const stable = candidate !== undefined && candidate.size === found.size;
    const since = candidate?.since ?? now;
    // A small file that is still growing may be a copy being written: look again at the next scan.
    if (!initial && !stable && found.size < HEAD_BYTES) {
      this.#candidates.set(key, { size: found.size, since });
      return;
    }
    const handle = await this.#open(found.path);
    if (handle === undefined) return;
    const head = await readHead(handle, Math.min(found.size, HEAD_BYTES));
    const copy = await this.#copyOf(handle, head, found.size);
    if (copy === 'maybe' && !stable && now - since < this.#timing.copyWaitMs) {
      this.#candidates.set(key, { size: found.size, since });
      await handle.close();
      return;
    }
    this.#candidates.delete(key);
    if (copy !== undefined && copy !== 'maybe') {
      if (isOrphan(copy)) {
        this.#orphans = this.#orphans.filter((orphan) => orphan !== copy);
        this.#events.log(
          `${found.path} is a copy of the truncated ${copy.path}; reading on in it from offset ${copy.cursor.readOffset.toLocaleString('en-US')}`,
        );
        this.#track(found, handle, copy.cursor, now);
      } else {
        await handle.close();
        this.#files.set(key, {
          dev: found.dev,
          ino: found.ino,
          path: found.path,
          handle: undefined,
          cursor: undefined,
          shadowOf: copy,
          size: found.size,
          lastGrowthAt: now,
          seenAt: now,
          matched: true,
          pendingFlushed: true,
        });
      }
      return;
    }
    const restored = this.#restored.find(
      (entry) =>
        entry.offset > 0 &&
        entry.offset <= found.size &&
        head.subarray(0, Buffer.byteLength(entry.head, 'base64')).equals(Buffer.from(entry.head, 'base64')),
    );
    if (restored !== undefined) {
      // The file a checkpoint entry was for was copied and truncated while kpl tail was stopped.
      this.#restored = this.#restored.filter((entry) => entry !== restored);
      this.#track(found, handle, await FileCursor.at(handle, restored.offset, this.#reader), now);
      return;
    }
    const fromEnd = initial && !this.#hadCheckpoint && this.#spec.from === 'end';
    this.#track(found, handle, fromEnd ? await FileCursor.at(handle, found.size, this.#reader) : FileCursor.atStart(this.#reader), now);
  }

  /**
   * The followed file (or truncated content) that this file is a copy of, up to where that one has
   * been read: the same first bytes, at least as long, and, for content read from its start, the
   * same digest of every byte read. 'maybe' when it begins alike but is shorter (a copy still being
   * written, or a file that only begins alike).
   */
  async #copyOf(handle: FileHandle, head: Buffer, size: number): Promise<TrackedFile | Orphan | 'maybe' | undefined> {
    let maybe = false;
    const sources: Array<TrackedFile | Orphan> = [...this.#orphans, ...this.#files.values()];
    for (const source of sources) {
      const cursor = source.cursor;
      if (cursor === undefined || cursor.readOffset === 0) continue;
      const known = cursor.head;
      const compared = Math.min(known.length, head.length);
      if (!head.subarray(0, compared).equals(known.subarray(0, compared))) continue;
      if (size < cursor.readOffset) {
        maybe = true;
        continue;
      }
      const digest = cursor.digest();
      if (digest === undefined || (await digestOf(handle, cursor.readOffset)).equals(digest)) return source;
    }
    return maybe ? 'maybe' : undefined;
  }

  #track(found: Found, handle: FileHandle, cursor: FileCursor, now: number): void {
    this.#files.set(`${found.dev}:${found.ino}`, {
      dev: found.dev,
      ino: found.ino,
      path: found.path,
      handle,
      cursor,
      shadowOf: undefined,
      size: cursor.readOffset,
      lastGrowthAt: now,
      seenAt: now,
      matched: true,
      pendingFlushed: true,
    });
  }

  async #readFile(file: TrackedFile, handle: FileHandle, stopped: () => boolean): Promise<boolean> {
    const now = this.#now();
    const { size } = await handle.stat();
    let cursor = file.cursor as FileCursor;
    if (size < cursor.readOffset || (size !== file.size && !(await startsWith(handle, cursor.head)))) {
      await this.#truncated(file, now);
      cursor = file.cursor as FileCursor;
    }
    file.size = size;
    let budget = READ_BUDGET_BYTES;
    let grew = false;
    while (cursor.readOffset < size && budget > 0 && !stopped()) {
      await this.#sink.ready();
      if (stopped()) break;
      const read = await cursor.readFrom(handle, Math.min(budget, size - cursor.readOffset), this.#emit);
      if (read === 0) break;
      budget -= read;
      grew = true;
    }
    const counts = cursor.takeCounts();
    if (counts.lines > 0 || counts.truncated > 0) this.#events.onLines(this.#spec.name, counts.lines, counts.truncated);
    if (grew) {
      file.lastGrowthAt = now;
      file.seenAt = now;
      file.pendingFlushed = false;
      return cursor.readOffset < size;
    }
    const quiet = now - file.lastGrowthAt;
    if (!file.pendingFlushed && quiet >= this.#timing.multilineIdleMs) {
      cursor.flushPending(this.#emit);
      file.pendingFlushed = true;
    }
    if (!file.matched && quiet >= this.#timing.rotatedIdleMs) {
      cursor.flushPending(this.#emit);
      await this.#close(file);
      const shadow = this.#shadowOf(file);
      if (shadow !== undefined) await this.#handOver(file, shadow);
    } else if (quiet >= this.#timing.idleCloseMs) {
      await this.#close(file);
    }
    return false;
  }

  /** The file was truncated (or replaced in place): its old content goes on in its copy, if one is known, and the file is read again from its start. */
  async #truncated(file: TrackedFile, now: number): Promise<void> {
    const old = file.cursor as FileCursor;
    this.#events.onRotation(this.#spec.name, 'truncate');
    this.#events.log(`${file.path} was truncated at offset ${old.readOffset.toLocaleString('en-US')}; reading it again from its start`);
    file.cursor = FileCursor.atStart(this.#reader);
    file.size = 0;
    file.pendingFlushed = true;
    const shadow = this.#shadowOf(file);
    if (shadow !== undefined) {
      shadow.cursor = old;
      shadow.shadowOf = undefined;
      shadow.handle = await this.#open(shadow.path);
      this.#events.log(`${shadow.path} is a copy of ${file.path}; reading on in it from offset ${old.readOffset.toLocaleString('en-US')}`);
      return;
    }
    this.#orphans.push({ cursor: old, dev: file.dev, ino: file.ino, path: file.path, since: now });
  }

  async #handOver(file: TrackedFile, shadow: TrackedFile): Promise<void> {
    shadow.cursor = file.cursor;
    shadow.shadowOf = undefined;
    shadow.handle = await this.#open(shadow.path);
    this.#files.delete(`${file.dev}:${file.ino}`);
  }

  #shadowOf(file: TrackedFile): TrackedFile | undefined {
    for (const other of this.#files.values()) if (other.shadowOf === file) return other;
    return undefined;
  }

  #expire(now: number): void {
    for (const orphan of this.#orphans) {
      if (now - orphan.since < this.#timing.orphanGraceMs) continue;
      orphan.cursor.flushPending(this.#emit);
      this.#events.log(
        `${orphan.path} was truncated and no matched file is a copy of it; what was written after offset ` +
          `${orphan.cursor.readOffset.toLocaleString('en-US')} before the truncation was not read (add a pattern for its copies)`,
      );
    }
    this.#orphans = this.#orphans.filter((orphan) => now - orphan.since < this.#timing.orphanGraceMs);
    for (const [key, file] of this.#files) {
      if (file.handle === undefined && !file.matched && now - file.seenAt > this.#timing.ttlMs) this.#files.delete(key);
    }
    this.#restored = this.#restored.filter((entry) => now - entry.seenAt <= this.#timing.ttlMs);
  }

  async #open(filePath: string): Promise<FileHandle | undefined> {
    try {
      const handle = await open(filePath, 'r');
      this.#unreadable.delete(filePath);
      return handle;
    } catch (error) {
      this.#cannotRead(filePath, error);
      return undefined;
    }
  }

  /** Logs an unreadable file once until it becomes readable; the next scan tries it again. */
  #cannotRead(filePath: string, error: unknown): void {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || this.#unreadable.has(filePath)) return;
    this.#unreadable.add(filePath);
    this.#events.log(`cannot read ${filePath}: ${(error as Error).message}; trying again`);
  }

  async #close(file: TrackedFile): Promise<void> {
    const handle = file.handle;
    file.handle = undefined;
    await handle?.close().catch(() => undefined);
  }
}

function isOrphan(source: TrackedFile | Orphan): source is Orphan {
  return !('handle' in source);
}

async function readHead(handle: FileHandle, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, 0);
  return buffer.subarray(0, bytesRead);
}

async function startsWith(handle: FileHandle, head: Buffer): Promise<boolean> {
  if (head.length === 0) return true;
  return (await readHead(handle, head.length)).equals(head);
}

async function digestOf(handle: FileHandle, length: number): Promise<Buffer> {
  const digest = createHash(CONTENT_DIGEST);
  const buffer = Buffer.allocUnsafe(256 * 1024);
  for (let position = 0; position < length;) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - position), position);
    if (bytesRead === 0) break;
    digest.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return digest.digest();
}
