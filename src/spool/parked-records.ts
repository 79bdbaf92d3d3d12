import type { Settle } from './add-waiters.js';
import type { SpoolEntry } from './reader.js';
import type { SpoolRecord } from './feeder-host.js';

/** A record read from the spool into the window, with what the pipeline needs to send it again. */
export interface WindowRecord {
  readonly entry: SpoolEntry;
  readonly record: SpoolRecord;
  readonly data: Uint8Array;
  readonly settle: Settle;
}

/**
 * Records of the window whose attempts ran out without a final answer (an outage): they wait
 * `delayMs`, one timer for all of them, and then go out again together.
 */
export class ParkedRecords {
  readonly #delayMs: number;
  readonly #resend: (record: WindowRecord) => void;
  #parked: WindowRecord[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `resend` is called for each record once its wait is over. */
  constructor(delayMs: number, resend: (record: WindowRecord) => void) {
    this.#delayMs = delayMs;
    this.#resend = resend;
  }

  /** Records waiting. */
  get length(): number {
    return this.#parked.length;
  }

  /** Their payload and partition key bytes, which they hold of the window. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Parks a record; the timer starts with the first one. */
  park(record: WindowRecord): void {
    this.#parked.push(record);
    this.#bytes += record.data.length + record.record.partitionKey.length;
    this.#timer ??= setTimeout(() => this.#unpark(), this.#delayMs);
  }

  /** Forgets every parked record: they stay in the spool for the next process. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#parked = [];
    this.#bytes = 0;
  }

  #unpark(): void {
    this.#timer = undefined;
    const parked = this.#parked;
    this.#parked = [];
    this.#bytes = 0;
    for (const each of parked) this.#resend(each);
  }
}
