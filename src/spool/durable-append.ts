import type { Logger } from '../config.js';
import { ProducerClosedError } from '../records.js';
import { SpoolWriteError } from './errors.js';
import type { Spool } from './spool.js';

/**
 * enqueue()'s appends: each resolves once its record is durable. At spool.maxBytes, or after a write
 * refused with ENOSPC, records wait in line for room and are appended in the order enqueue() took them.
 */
export class DurableAppender {
  readonly #spool: Spool;
  readonly #logger: Logger | undefined;
  /** The last append waiting for room; later ones line up behind it. */
  #line: Promise<void> | undefined;
  /** The sync promise of the last append made at once, the payloads appended under it, and what append() gave for them. */
  #batchDurable: Promise<void> | undefined;
  #batchPayloads: Buffer[] = [];
  #batchResult: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(spool: Spool, logger: Logger | undefined) {
    this.#spool = spool;
    this.#logger = logger;
  }

  /**
   * Appends `payload` in turn and resolves once it is durable; a write refused with ENOSPC waits for
   * room and is tried again. Appends synced together share one promise: no promise per record.
   */
  append(payload: Buffer): Promise<void> {
    if (this.#line === undefined && this.#spool.hasRoom(payload.length)) {
      try {
        this.#spool.append(payload);
      } catch (error) {
        return Promise.reject(error);
      }
      const durable = this.#spool.durable();
      if (durable !== this.#batchDurable) {
        const payloads: Buffer[] = [];
        this.#batchDurable = durable;
        this.#batchPayloads = payloads;
        this.#batchResult = durable.catch((error: unknown) => this.#appendAgain(error, payloads));
      }
      this.#batchPayloads.push(payload);
      return this.#batchResult;
    }
    return this.#appendInTurn(payload).catch((error: unknown) => this.#appendAgain(error, [payload]));
  }

  /** After ENOSPC, appends `payloads` again, in order, once there is room; any other error stands. */
  #appendAgain(error: unknown, payloads: readonly Buffer[]): Promise<void> {
    if (!(error instanceof SpoolWriteError) || error.errno !== 'ENOSPC' || this.#stopped) throw error;
    this.#logger?.warn('spool: the disk is full (ENOSPC); enqueue() waits for room', { path: error.path });
    return Promise.all(payloads.map((payload) => this.append(payload))).then(() => undefined);
  }

  /** Appends waiting for room reject with ProducerClosedError once room comes. */
  stop(): void {
    this.#stopped = true;
  }

  /** Appends once the appends waiting before it are in and there is room (spool.maxBytes, or a full disk). */
  #appendInTurn(payload: Buffer): Promise<void> {
    const spool = this.#spool;
    let durable: Promise<void> = Promise.resolve();
    const appended = (this.#line ?? Promise.resolve()).then(async () => {
      while (!spool.hasRoom(payload.length) && !this.#stopped) await spool.waitForRoom(payload.length);
      if (this.#stopped)
        throw new ProducerClosedError('the producer closed while enqueue() waited for room in the spool; the record was not spooled');
      spool.append(payload);
      durable = spool.durable();
    });
    const queued = appended.then(
      () => undefined,
      () => undefined,
    );
    this.#line = queued;
    void queued.then(() => {
      if (this.#line === queued) this.#line = undefined;
    });
    return appended.then(() => durable);
  }
}
