import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { StreamUserRecord } from '../../src/record-admission.js';
import { recordWritable, spooledRecordWritable } from '../../src/record-writable.js';
import { BufferFullError, type UserRecordResult, ValidationError } from '../../src/records.js';

const RESULT: UserRecordResult = { shardId: 'shardId-0', sequenceNumber: '1', subSequenceNumber: 0, attempts: [], successful: true };

/** A producer whose records settle when the test says, and which is full until `room()`. */
function target(fullFor = 0) {
  const pending: Array<{ record: StreamUserRecord; settle: (error?: Error) => void }> = [];
  let full = fullFor;
  let room: (() => void) | undefined;
  const roomAsked: number[] = [];
  return {
    pending,
    roomAsked,
    room: () => room?.(),
    add(record: StreamUserRecord): Promise<UserRecordResult> {
      if (full > 0) {
        full--;
        throw new BufferFullError('maxOutstandingRecords', 1, 1);
      }
      if (record.partitionKey === '') throw new ValidationError('partitionKey', 'empty');
      return new Promise((resolve, reject) => pending.push({ record, settle: (error) => (error ? reject(error) : resolve(RESULT)) }));
    },
    onRoom(bytes: number): Promise<void> {
      roomAsked.push(bytes);
      return new Promise((resolve) => (room = resolve));
    },
    flush: () => Promise.resolve(),
  };
}

describe('recordWritable', () => {
  it('ends only once every record written has settled', async () => {
    const producer = target();
    const stream = recordWritable(producer);
    stream.write({ partitionKey: 'a', data: 'x' });
    stream.end({ partitionKey: 'b', data: 'y' });
    let finished = false;
    stream.on('finish', () => (finished = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(producer.pending.map(({ record }) => record.partitionKey)).toEqual(['a', 'b']);
    expect(finished).toBe(false);
    for (const { settle } of producer.pending) settle();
    await once(stream, 'finish');
  });

  it('holds back the write while the producer is full, then writes the record when there is room for its bytes', async () => {
    const producer = target(1);
    const stream = recordWritable(producer);
    let written = false;
    stream.write({ partitionKey: 'ab', data: 'héllo' }, () => (written = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toBe(false);
    expect(producer.roomAsked).toEqual([8]);
    producer.room();
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toBe(true);
    expect(producer.pending).toHaveLength(1);
  });

  it('errors on a record refused at once, and on the first record that fails', async () => {
    const refused = recordWritable(target());
    refused.write({ partitionKey: '', data: 'x' });
    const [error] = (await once(refused, 'error')) as [Error];
    expect(error).toBeInstanceOf(ValidationError);

    const producer = target();
    const failing = recordWritable(producer);
    failing.write({ partitionKey: 'a', data: 'x' });
    await new Promise((resolve) => setImmediate(resolve));
    producer.pending[0]?.settle(new Error('expired'));
    const [failure] = (await once(failing, 'error')) as [Error];
    expect(failure.message).toBe('expired');
  });
});

describe('spooledRecordWritable', () => {
  it('completes a write once its record is durable, and ends after the flush', async () => {
    const enqueued: string[] = [];
    let flushed = false;
    const stream = spooledRecordWritable(
      (record) => {
        enqueued.push(record.partitionKey);
        return Promise.resolve();
      },
      () => {
        flushed = true;
        return Promise.resolve();
      },
    );
    stream.end({ partitionKey: 'a', data: 'x' });
    await once(stream, 'finish');
    expect(enqueued).toEqual(['a']);
    expect(flushed).toBe(true);
  });
});
