/**
 * The least any producer with this API can do: `add()` returns a promise, holds the record and
 * the promise's resolver until its batch "comes back", and resolves it with a result object. It
 * sends nothing and computes nothing. It measures what the promise-per-record API costs alone on
 * this machine with `window` records outstanding, mostly the garbage collector copying every held
 * record's promise, resolver and entry out of V8's young generation; the more records are held, the
 * more it copies, so the pipeline bench holds what a producer with the default batching holds.
 */
import type { UserRecord, UserRecordResult } from '../../src/records.js';

interface HeldRecord {
  readonly record: UserRecord;
  readonly resolve: (result: UserRecordResult) => void;
}

let capturedResolve: (result: UserRecordResult) => void = () => undefined;
function captureResolve(resolve: (result: UserRecordResult) => void): void {
  capturedResolve = resolve;
}

const ATTEMPTS = Object.freeze([Object.freeze({ delayMs: 0, durationMs: 0, success: true as const })]) as UserRecordResult['attempts'];

/** A stand-in producer that only keeps and settles promises, `window` records late, in batches of `batchRecords`. */
export class PromiseFloor {
  readonly #window: number;
  readonly #batchRecords: number;
  #open: HeldRecord[] = [];
  readonly #batches: HeldRecord[][] = [];
  #outstanding = 0;

  constructor(window: number, batchRecords: number) {
    this.#window = window;
    this.#batchRecords = batchRecords;
  }

  /** Records added and not yet settled. */
  get outstandingRecords(): number {
    return this.#outstanding;
  }

  /** Holds the record; its promise resolves when the window has moved past it. */
  add(record: UserRecord): Promise<UserRecordResult> {
    const promise = new Promise<UserRecordResult>(captureResolve);
    this.#open.push({ record, resolve: capturedResolve });
    this.#outstanding++;
    if (this.#open.length === this.#batchRecords) {
      this.#batches.push(this.#open);
      this.#open = [];
    }
    return promise;
  }

  /** Settles the oldest batches, on the next turn of the event loop as a response would, until below the window. */
  ready(): Promise<void> {
    return new Promise((resolve) =>
      setImmediate(() => {
        while (this.#outstanding >= this.#window && this.#batches.length > 0) this.#settle(this.#batches.shift() as HeldRecord[]);
        resolve();
      }),
    );
  }

  /** Settles everything held. */
  flush(): Promise<void> {
    for (const batch of this.#batches.splice(0)) this.#settle(batch);
    this.#settle(this.#open);
    this.#open = [];
    return Promise.resolve();
  }

  #settle(batch: HeldRecord[]): void {
    for (let i = 0; i < batch.length; i++) {
      (batch[i] as HeldRecord).resolve({
        successful: true,
        shardId: 'shardId-000000000000',
        sequenceNumber: '0',
        subSequenceNumber: i,
        attempts: ATTEMPTS,
      });
    }
    this.#outstanding -= batch.length;
  }
}
