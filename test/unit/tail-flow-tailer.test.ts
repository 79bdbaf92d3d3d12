import { appendFile, copyFile, mkdtemp, rename, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckpointEntry } from '../../src/cli/tail/checkpoint-store.js';
import type { FlowSpec } from '../../src/cli/tail/flow.js';
import { FlowTailer } from '../../src/cli/tail/flow-tailer.js';
import type { RecordSink } from '../../src/cli/tail/record-sink.js';
import { DEFAULT_TIMING } from '../../src/cli/tail/tail-timing.js';

/** A sink that stores every record at once, and the lines it got. */
function storingSink(): RecordSink & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    send(record, _stream, acks, endOffset) {
      lines.push(record.data.toString('utf8'));
      acks.settle(acks.track(endOffset));
    },
    ready: () => Promise.resolve(),
  };
}

const numbered = (prefix: string, from: number, count: number): string =>
  Array.from({ length: count }, (_, i) => `${prefix} ${from + i} ${'z'.repeat(40)}\n`).join('');
const linesOf = (text: string): string[] => text.split('\n').filter((line) => line !== '');

describe('FlowTailer', () => {
  let directory: string;
  let now: number;
  let logs: string[];
  const events = { onLines: () => undefined, onRotation: () => undefined, log: (message: string) => logs.push(message) };
  const flow = (from: 'start' | 'end' = 'start'): FlowSpec => ({
    name: 'default',
    patterns: [path.join(directory, 'app.log*')],
    stream: 's',
    reader: { format: 'lines' },
    from,
  });
  const tailer = (sink: RecordSink, restored?: readonly CheckpointEntry[], from: 'start' | 'end' = 'start'): FlowTailer =>
    new FlowTailer(flow(from), sink, events, restored, { timing: DEFAULT_TIMING, now: () => now });
  /** Two scans (a new small file waits for one to show it has stopped growing), each followed by reading. */
  const pass = async (follower: FlowTailer): Promise<void> => {
    for (let i = 0; i < 2; i++) {
      now += 300;
      await follower.scan();
      while (await follower.read(() => false));
    }
  };

  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-flow-'));
    now = 1_000_000;
    logs = [];
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('reads a renamed file to its end and its successor from its start', async () => {
    const log = path.join(directory, 'app.log');
    await writeFile(log, numbered('a', 0, 10));
    const sink = storingSink();
    const follower = tailer(sink);
    await pass(follower);
    await appendFile(log, numbered('a', 10, 5));
    await rename(log, `${log}.1`);
    await appendFile(`${log}.1`, numbered('a', 15, 5));
    await writeFile(log, numbered('b', 0, 30));
    await pass(follower);
    expect(sink.lines).toEqual([...linesOf(numbered('a', 0, 20)), ...linesOf(numbered('b', 0, 30))]);
    expect(logs).toContain(`${log} is now ${log}.1; reading on from where it stands`);
    await follower.close();
  });

  it('reads a truncated file again from its start', async () => {
    const log = path.join(directory, 'app.log');
    await writeFile(log, numbered('a', 0, 10));
    const sink = storingSink();
    const follower = tailer(sink);
    await pass(follower);
    await truncate(log, 0);
    await appendFile(log, numbered('b', 0, 3));
    await pass(follower);
    expect(sink.lines).toEqual([...linesOf(numbered('a', 0, 10)), ...linesOf(numbered('b', 0, 3))]);
    await follower.close();
  });

  it('goes on in the copy of a copy-truncated file from where it had read, without reading the copy again', async () => {
    const log = path.join(directory, 'app.log');
    await writeFile(log, numbered('a', 0, 50));
    const sink = storingSink();
    const follower = tailer(sink);
    await pass(follower);
    await appendFile(log, numbered('a', 50, 10));
    await copyFile(log, `${log}.1`);
    await truncate(log, 0);
    await appendFile(log, numbered('b', 0, 5));
    await pass(follower);
    expect([...sink.lines].sort()).toEqual([...linesOf(numbered('a', 0, 60)), ...linesOf(numbered('b', 0, 5))].sort());
    await follower.close();
  });

  it('goes on in the copy of a copy-truncated file that it resumed from a checkpoint', async () => {
    const log = path.join(directory, 'app.log');
    await writeFile(log, numbered('a', 0, 50));
    const before = tailer(storingSink());
    await pass(before);
    const entries = before.checkpointEntries();
    await before.close();
    const sink = storingSink();
    const follower = tailer(sink, entries);
    await pass(follower);
    await appendFile(log, numbered('a', 50, 10));
    await pass(follower);
    await appendFile(log, numbered('a', 60, 5));
    await copyFile(log, `${log}.1`);
    await truncate(log, 0);
    await pass(follower);
    expect(sink.lines).toEqual(linesOf(numbered('a', 50, 15)));
    await follower.close();
  });

  it('leaves a copy of a file still followed unread', async () => {
    const log = path.join(directory, 'app.log');
    await writeFile(log, numbered('a', 0, 50));
    const sink = storingSink();
    const follower = tailer(sink);
    await pass(follower);
    await copyFile(log, `${log}.bak`);
    await appendFile(log, numbered('a', 50, 5));
    await pass(follower);
    expect(sink.lines).toEqual(linesOf(numbered('a', 0, 55)));
    await follower.close();
  });

  it('reads files found at the first start from their end with from: end, and later files from their start', async () => {
    await writeFile(path.join(directory, 'app.log'), numbered('old', 0, 5));
    const sink = storingSink();
    const follower = tailer(sink, undefined, 'end');
    await pass(follower);
    await appendFile(path.join(directory, 'app.log'), numbered('new', 0, 2));
    await writeFile(path.join(directory, 'app.log.2'), numbered('later', 0, 2));
    await pass(follower);
    expect([...sink.lines].sort()).toEqual([...linesOf(numbered('new', 0, 2)), ...linesOf(numbered('later', 0, 2))].sort());
    await follower.close();
  });

  it('resumes from a checkpoint entry, and reads a reused inode with other content from its start', async () => {
    const log = path.join(directory, 'app.log');
    await writeFile(log, numbered('a', 0, 10));
    const first = storingSink();
    const before = tailer(first);
    await pass(before);
    await appendFile(log, numbered('a', 10, 3));
    const entries = before.checkpointEntries();
    await before.close();
    expect(entries).toEqual([expect.objectContaining({ path: log, offset: Buffer.byteLength(numbered('a', 0, 10)) })]);

    const resumed = storingSink();
    const after = tailer(resumed, entries, 'end');
    await pass(after);
    expect(resumed.lines).toEqual(linesOf(numbered('a', 10, 3)));
    await after.close();

    const { ino } = await stat(log);
    await unlink(log);
    await writeFile(log, numbered('c', 0, 40));
    const reused = storingSink();
    // Same device and inode as the entry (when the file system reuses it), other first bytes: a new file.
    const other = tailer(
      reused,
      entries.map((entry) => ({ ...entry, ino })),
      'end',
    );
    await pass(other);
    expect(reused.lines).toEqual(linesOf(numbered('c', 0, 40)));
    await other.close();
  });

  it('holds the checkpoint before a record still in flight', async () => {
    const log = path.join(directory, 'app.log');
    await writeFile(log, 'one\ntwo\nthree\n');
    const held: Array<() => void> = [];
    const follower = tailer({
      send: (_record, _stream, acks, endOffset) => {
        const ticket = acks.track(endOffset);
        held.push(() => acks.settle(ticket));
      },
      ready: () => Promise.resolve(),
    });
    await pass(follower);
    held[0]?.();
    held[2]?.();
    expect(follower.checkpointEntries()[0]?.offset).toBe(4);
    held[1]?.();
    expect(follower.checkpointEntries()[0]?.offset).toBe(14);
    await follower.close();
  });
});
