import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutstandingRecords } from '../../src/outstanding-records.js';
import type { PendingRecord } from '../../src/pending-record.js';
import { minOutstandingBytes, RecordAdmission } from '../../src/record-admission.js';
import { BufferFullError, ProducerClosedError, type UserRecordResult, ValidationError } from '../../src/records.js';
import type { StreamPipelines } from '../../src/stream-pipelines.js';

/** Pipelines that only record what they are given, by stream. */
function setup(maxRecords = 10, maxBytes = 10_000) {
  const added: Array<[string, PendingRecord]> = [];
  const pipelineOf = (label: string) => ({
    label,
    maxRecordBytes: 1024,
    maxRecordBytesSource: undefined,
    add: (item: PendingRecord) => added.push([label, item]),
  });
  const pipelines = { default: pipelineOf('main'), for: (streamName: string) => pipelineOf(streamName) } as unknown as StreamPipelines;
  const outstanding = new OutstandingRecords({ maxRecords, maxBytes });
  const received: string[] = [];
  const metrics = { recordReceived: (stream: string) => received.push(stream) };
  const admission = new RecordAdmission(outstanding, pipelines, metrics as never);
  return { admission, added, outstanding, received };
}

describe('RecordAdmission', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 5_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('validates a record, counts it, and hands it to its stream with a promise its settlement resolves', async () => {
    const { admission, added, outstanding, received } = setup();
    const promise = admission.add({ partitionKey: 'pk', data: 'hello', streamName: 'other' }, undefined);
    expect(added.map(([label]) => label)).toEqual(['other']);
    expect(received).toEqual(['other']);
    expect([outstanding.size, outstanding.bytes]).toEqual([1, 7]);
    const item = added[0]?.[1] as PendingRecord;
    expect(Buffer.from(item.data).toString()).toBe('hello');
    const result: UserRecordResult = { shardId: 'shardId-0', sequenceNumber: '1', subSequenceNumber: 0, attempts: [], successful: true };
    item.resolve(result);
    await expect(promise).resolves.toBe(result);
  });

  it('with a callback returns nothing and keeps the callback on the record', () => {
    const { admission, added } = setup();
    const callback = vi.fn();
    expect(admission.add({ partitionKey: 'pk', data: new Uint8Array(3) }, callback)).toBeUndefined();
    expect(added[0]?.[0]).toBe('main');
    expect(added[0]?.[1].callback).toBe(callback);
  });

  it('refuses bad input, a full producer, and any record after close, without counting it', () => {
    const { admission, outstanding } = setup(1);
    expect(() => admission.add({ partitionKey: '', data: 'x' }, undefined)).toThrow(ValidationError);
    expect(() => admission.add({ partitionKey: 'pk', data: 'x'.repeat(2000) }, undefined)).toThrow(/1,024/);
    expect(outstanding.size).toBe(0);
    void admission.add({ partitionKey: 'pk', data: 'x' }, undefined);
    expect(() => admission.add({ partitionKey: 'pk', data: 'x' }, undefined)).toThrow(BufferFullError);
    admission.close();
    expect(admission.closed).toBe(true);
    expect(() => admission.add({ partitionKey: 'pk', data: 'x' }, undefined)).toThrow(ProducerClosedError);
  });

  it('admits a spooled record only while the window has room', () => {
    const settle = vi.fn();
    const data = new Uint8Array(10);
    const { admission, added } = setup(1, 1_000);
    expect(admission.admit({ partitionKey: 'pk', data }, data, settle)).toBe(true);
    expect(admission.admit({ partitionKey: 'pk', data }, data, settle)).toBe(false);
    const byBytes = setup(5, 15);
    expect(byBytes.admission.admit({ partitionKey: 'pk', data }, data, settle)).toBe(true);
    expect(byBytes.admission.admit({ partitionKey: 'pk', data }, data, settle)).toBe(false);
    expect(added).toHaveLength(1);
    expect(added[0]?.[1].resolve).toBe(settle);
  });

  it('reads a lower bound of a record’s bytes without trusting its shape', () => {
    expect(minOutstandingBytes({ partitionKey: 'ab', data: 'héllo' })).toBe(7);
    expect(minOutstandingBytes(null as never)).toBe(0);
    expect(minOutstandingBytes({ partitionKey: 3, data: 4 } as never)).toBe(0);
  });
});
