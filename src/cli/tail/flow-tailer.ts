import type { FileHandle } from 'node:fs/promises';
import type { LineRecordOptions } from '../lines/line-record-options.js';
import type { CheckpointEntry } from './checkpoint-store.js';
import { FileCursor, HEAD_BYTES, type RecordEmitter } from './file-cursor.js';
import { findMatchedFiles, GrowingFiles, inodeKey, type MatchedFile } from './file-discovery.js';
import { copySource, readHead, startsWith } from './file-identity.js';
import { FileOpener } from './file-opener.js';
import type { FlowEvents, FlowSpec } from './flow.js';
import { checkpointEntryOf, FollowedFile, type OrphanedContent } from './followed-files.js';
import type { RecordSink } from './record-sink.js';
import { RestoredEntries } from './restored-entries.js';
import { DEFAULT_TIMING, type TailTiming } from './tail-timing.js';

/** Lines that fail to parse, logged one by one per flow before they are only counted. */
const PROBLEMS_SHOWN = 5;
/** Bytes one file may read in one pass, so that every file gets its turn. */
const READ_BUDGET_BYTES = 4 * 1024 * 1024;

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
  readonly #files = new Map<string, FollowedFile>();
  readonly #growing = new GrowingFiles();
  #orphans: OrphanedContent[] = [];
  readonly #restored: RestoredEntries;
  readonly #opener: FileOpener;
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
    this.#restored = new RestoredEntries(restored);
    this.#opener = new FileOpener((message) => events.log(message));
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
    let found: MatchedFile[];
    try {
      found = await findMatchedFiles(this.#spec.patterns, (filePath, error) => this.#opener.cannotRead(filePath, error));
    } catch (error) {
      this.#events.log(`flow ${this.#spec.name}: cannot list its patterns: ${(error as Error).message}`);
      return;
    }
    for (const file of this.#files.values()) file.matched = false;
    const unknown: MatchedFile[] = [];
    for (const entry of found) {
      const tracked = this.#files.get(inodeKey(entry));
      if (tracked !== undefined) await this.#revisit(tracked, entry, now);
      else if (!(await this.#resume(entry, now))) unknown.push(entry);
    }
    for (const entry of unknown) await this.#discover(entry, now, initial);
    this.#growing.keepOnly(new Set(found.map(inodeKey)));
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
        this.#opener.cannotRead(file.path, error);
        await this.#close(file);
      }
    }
    return more;
  }

  /** Where every file stands, for the checkpoint. */
  checkpointEntries(): CheckpointEntry[] {
    const flow = this.#spec.name;
    const entries: CheckpointEntry[] = [];
    for (const file of this.#files.values())
      if (file.cursor !== undefined) entries.push(checkpointEntryOf(flow, file, file.cursor, file.seenAt));
    for (const orphan of this.#orphans) entries.push(checkpointEntryOf(flow, orphan, orphan.cursor, orphan.since));
    return [...entries, ...this.#restored.unclaimed];
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

  async #revisit(file: FollowedFile, found: MatchedFile, now: number): Promise<void> {
    file.matched = true;
    file.seenAt = now;
    if (file.path !== found.path) {
      this.#events.onRotation(this.#spec.name, 'rename');
      this.#events.log(`${file.path} is now ${found.path}; reading on from where it stands`);
      file.path = found.path;
    }
    if (file.handle !== undefined || file.cursor === undefined || found.size === file.size) return;
    const handle = await this.#opener.open(found.path);
    if (handle === undefined) return;
    file.handle = handle;
    if (found.size < file.cursor.readOffset || !(await startsWith(handle, file.cursor.head))) await this.#truncated(file, now);
  }

  /** Claims the checkpoint entry of this inode, when the file still begins as it did: resolves true when it did. */
  async #resume(found: MatchedFile, now: number): Promise<boolean> {
    if (!this.#restored.mayResume(found)) return false;
    const handle = await this.#opener.open(found.path);
    if (handle === undefined) return true;
    const entry = await this.#restored.claimResumed(found, handle);
    if (entry === undefined) {
      await handle.close();
      return false;
    }
    this.#track(found, handle, await FileCursor.at(handle, entry.offset, this.#reader), now);
    return true;
  }

  async #discover(found: MatchedFile, now: number, initial: boolean): Promise<void> {
    const key = inodeKey(found);
    const { stable, since } = this.#growing.look(key, found.size, now);
    // A small file that is still growing may be a copy being written: look again at the next scan.
    if (!initial && !stable && found.size < HEAD_BYTES) {
      this.#growing.wait(key, found.size, since);
      return;
    }
    const handle = await this.#opener.open(found.path);
    if (handle === undefined) return;
    const head = await readHead(handle, Math.min(found.size, HEAD_BYTES));
    const copy = await copySource(handle, head, found.size, [...this.#orphans, ...this.#files.values()]);
    if (copy === 'maybe' && !stable && now - since < this.#timing.copyWaitMs) {
      this.#growing.wait(key, found.size, since);
      await handle.close();
      return;
    }
    this.#growing.forget(key);
    if (copy !== undefined && copy !== 'maybe') {
      if (!(copy instanceof FollowedFile)) {
        this.#orphans = this.#orphans.filter((orphan) => orphan !== copy);
        this.#events.log(
          `${found.path} is a copy of the truncated ${copy.path}; reading on in it from offset ${copy.cursor.readOffset.toLocaleString('en-US')}`,
        );
        this.#track(found, handle, copy.cursor, now);
      } else {
        await handle.close();
        this.#files.set(key, new FollowedFile(found, undefined, undefined, copy, now));
      }
      return;
    }
    const restored = this.#restored.claimCopied(head, found.size);
    if (restored !== undefined) {
      // The file a checkpoint entry was for was copied and truncated while kpl tail was stopped.
      this.#track(found, handle, await FileCursor.at(handle, restored.offset, this.#reader), now);
      return;
    }
    const fromEnd = initial && !this.#restored.hadCheckpoint && this.#spec.from === 'end';
    this.#track(found, handle, fromEnd ? await FileCursor.at(handle, found.size, this.#reader) : FileCursor.atStart(this.#reader), now);
  }

  #track(found: MatchedFile, handle: FileHandle, cursor: FileCursor, now: number): void {
    this.#files.set(inodeKey(found), new FollowedFile(found, handle, cursor, undefined, now));
  }

  async #readFile(file: FollowedFile, handle: FileHandle, stopped: () => boolean): Promise<boolean> {
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
  async #truncated(file: FollowedFile, now: number): Promise<void> {
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
      shadow.handle = await this.#opener.open(shadow.path);
      this.#events.log(`${shadow.path} is a copy of ${file.path}; reading on in it from offset ${old.readOffset.toLocaleString('en-US')}`);
      return;
    }
    this.#orphans.push({ cursor: old, dev: file.dev, ino: file.ino, path: file.path, since: now });
  }

  async #handOver(file: FollowedFile, shadow: FollowedFile): Promise<void> {
    shadow.cursor = file.cursor;
    shadow.shadowOf = undefined;
    shadow.handle = await this.#opener.open(shadow.path);
    this.#files.delete(inodeKey(file));
  }

  #shadowOf(file: FollowedFile): FollowedFile | undefined {
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
    this.#restored.expire(now, this.#timing.ttlMs);
  }

  async #close(file: FollowedFile): Promise<void> {
    const handle = file.handle;
    file.handle = undefined;
    await handle?.close().catch(() => undefined);
  }
}
