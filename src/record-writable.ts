/**
 * The producer's object-mode Writable: it holds back its write callback while the producer is
 * full, so `pipeline(source, producer.writable())` never overfills, errors on the first record that
 * fails, and ends once every record written has settled. With a spool a write completes once its
 * record is durable.
 */
import { Writable } from 'node:stream';
import { BufferFullError, type UserRecordResult } from './records.js';
import type { StreamUserRecord } from './record-admission.js';

/** What a {@link recordWritable} needs of the producer. */
export interface RecordWritableTarget {
  /** add() that throws at once what add() rejects with at once (RecordAdmission.add). */
  add(record: StreamUserRecord): Promise<UserRecordResult>;
  /** Resolves when the producer has room for `bytes` more (OutstandingRecords.onRoom). */
  onRoom(bytes: number): Promise<void>;
  flush(): Promise<void>;
}

/** A record's share of maxOutstandingBytes before it is validated, for waiting on room. */
function outstandingBytesOfRecord(record: StreamUserRecord): number {
  const dataBytes = typeof record.data === 'string' ? Buffer.byteLength(record.data) : record.data.length;
  return dataBytes + record.partitionKey.length;
}

/** A Writable over add(): full producer, held-back callback; first failure, destroyed stream; end, every record settled. */
export function recordWritable(target: RecordWritableTarget): Writable {
  let failure: Error | undefined;
  /** Records written and not yet settled; the end waits for every one of them, not only for flush(). */
  let unsettled = 0;
  let whenSettled: (() => void) | undefined;
  const delivered = (): void => {
    if (--unsettled === 0 && whenSettled !== undefined) whenSettled();
  };
  const failed = (error: unknown): void => {
    if (failure === undefined) {
      failure = error as Error;
      stream.destroy(failure);
    }
    delivered();
  };
  // One function for every record: a closure is made only when a record must wait for room.
  const write = (record: StreamUserRecord, callback: (error?: Error | null) => void): void => {
    let delivery: Promise<UserRecordResult>;
    try {
      delivery = target.add(record);
    } catch (error) {
      if (error instanceof BufferFullError) {
        // ready() would resolve as soon as the producer is below its limits, which may still
        // be too little room for this record: wait for room for its own bytes.
        void target.onRoom(outstandingBytesOfRecord(record)).then(() => write(record, callback));
        return;
      }
      callback(error as Error);
      return;
    }
    unsettled++;
    delivery.then(delivered, failed);
    callback();
  };
  const stream = new Writable({
    objectMode: true,
    write: (record: StreamUserRecord, _encoding, callback) => write(record, callback),
    final: (callback) => {
      const finish = (): void => callback(failure);
      void target.flush().then(() => {
        if (unsettled === 0) finish();
        else whenSettled = finish;
      }, callback);
    },
  });
  return stream;
}

/** With a spool: a write is done once its record is durable (`enqueue`); delivery failures go to spool.onFailure; the end waits for `flush`. */
export function spooledRecordWritable(enqueue: (record: StreamUserRecord) => Promise<void>, flush: () => Promise<void>): Writable {
  return new Writable({
    objectMode: true,
    write: (record: StreamUserRecord, _encoding, callback) => void enqueue(record).then(() => callback(), callback),
    final: (callback) => void flush().then(() => callback(), callback),
  });
}
