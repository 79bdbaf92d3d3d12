/**
 * The producer's outstanding records: how many records and bytes it holds between add() and their
 * settlement, the limits on both, and the promises that wait on them, in the manner of p-queue:
 * {@link OutstandingRecords.onRoom} like `onSizeLessThan`, {@link OutstandingRecords.onSettled} like
 * `onIdle` for the records counted so far, and sync getters for a hot loop.
 */
import { BufferFullError } from './records.js';

/** The limits of an {@link OutstandingRecords}. */
export interface OutstandingLimits {
  /** Most records held at once. */
  readonly maxRecords: number;
  /** Most bytes (data plus partition keys) held at once. */
  readonly maxBytes: number;
}

interface RoomWaiter {
  readonly bytes: number;
  readonly wake: () => void;
}

interface SettledWaiter {
  readonly generation: number;
  readonly resolve: () => void;
}

/** Counts what the producer holds, refuses beyond its limits, and wakes whoever waits for room or for settlement. */
export class OutstandingRecords {
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  #records = 0;
  #bytes = 0;
  /** Records held per generation, oldest first; a generation ends at each onSettled() call. */
  #generationCounts: number[] = [0];
  #oldestGeneration = 0;
  #settledWaiters: SettledWaiter[] = [];
  #roomWaiters: RoomWaiter[] = [];
  #closed = false;

  constructor(limits: OutstandingLimits) {
    this.#maxRecords = limits.maxRecords;
    this.#maxBytes = limits.maxBytes;
  }

  /** Records held. */
  get size(): number {
    return this.#records;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The generation a record counted in now belongs to. */
  get generation(): number {
    return this.#oldestGeneration + this.#generationCounts.length - 1;
  }

  /**
   * Refuses at once when a record of at least `minBytes` cannot fit: call it before any work on the
   * record, so that a refused record costs nothing.
   *
   * @throws BufferFullError naming the limit reached.
   */
  refuseIfFull(minBytes: number): void {
    if (this.#records >= this.#maxRecords) throw new BufferFullError('maxOutstandingRecords', this.#maxRecords, this.#records);
    if (this.#bytes + minBytes > this.#maxBytes) throw new BufferFullError('maxOutstandingBytes', this.#maxBytes, this.#bytes);
  }

  /**
   * Counts in a record of `bytes` and returns its generation.
   *
   * @throws BufferFullError when it does not fit; nothing is counted then.
   */
  add(bytes: number): number {
    this.refuseIfFull(bytes);
    this.#records++;
    this.#bytes += bytes;
    (this.#generationCounts[this.#generationCounts.length - 1] as number)++;
    return this.generation;
  }

  /** A record counted in with `bytes` in `generation` settled. */
  settled(bytes: number, generation: number): void {
    this.#records--;
    this.#bytes -= bytes;
    const index = generation - this.#oldestGeneration;
    const left = (this.#generationCounts[index] as number) - 1;
    this.#generationCounts[index] = left;
    if (left === 0 && index === 0) this.#retireGenerations();
    if (this.#roomWaiters.length > 0) this.#wakeRoomWaiters();
  }

  /**
   * Resolves when a record of `bytes` fits, at once if it does now; with 0, when both counts are
   * below their limits. After {@link close}, at once.
   */
  onRoom(bytes = 0): Promise<void> {
    if (this.#closed || this.hasRoom(bytes)) return Promise.resolve();
    return new Promise((wake) => this.#roomWaiters.push({ bytes, wake }));
  }

  /** Ends the current generation and resolves once every record counted in before the call has settled. */
  onSettled(): Promise<void> {
    const generation = this.generation;
    this.#generationCounts.push(0);
    if (this.#generationCounts[0] === 0) this.#retireGenerations();
    if (this.#settledThrough(generation)) return Promise.resolve();
    return new Promise((resolve) => this.#settledWaiters.push({ generation, resolve }));
  }

  /** Wakes every room waiter, now and from now on: nothing more will be added. */
  close(): void {
    this.#closed = true;
    this.#wakeRoomWaiters();
  }

  /** True while one more record of `bytes` fits under both limits. */
  hasRoom(bytes: number): boolean {
    if (this.#records >= this.#maxRecords) return false;
    return bytes === 0 ? this.#bytes < this.#maxBytes : this.#bytes + bytes <= this.#maxBytes;
  }

  #wakeRoomWaiters(): void {
    const waiting: RoomWaiter[] = [];
    for (const waiter of this.#roomWaiters) {
      if (this.#closed || this.hasRoom(waiter.bytes)) waiter.wake();
      else waiting.push(waiter);
    }
    this.#roomWaiters = waiting;
  }

  /** Drops the leading generations that have fully settled and wakes the waiters on them. */
  #retireGenerations(): void {
    const counts = this.#generationCounts;
    let drop = 0;
    while (drop < counts.length - 1 && counts[drop] === 0) drop++;
    if (drop === 0) return;
    this.#generationCounts = counts.slice(drop);
    this.#oldestGeneration += drop;
    if (this.#settledWaiters.length === 0) return;
    const waiting: SettledWaiter[] = [];
    for (const waiter of this.#settledWaiters) {
      if (this.#settledThrough(waiter.generation)) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#settledWaiters = waiting;
  }

  #settledThrough(generation: number): boolean {
    const last = generation - this.#oldestGeneration;
    for (let i = 0; i <= last && i < this.#generationCounts.length; i++) if (this.#generationCounts[i] !== 0) return false;
    return true;
  }
}
