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
  #stopped = false;

  constructor(spool: Spool, logger: Logger | undefined) {
    this.#spool = spool;
    this.#logger = logger;
  }

  /** Appends `payload` in turn and resolves once it is durable; a write refused with ENOSPC waits for room and is tried again. */
  append(payload: Buffer): Promise<void> {
    return this.#appendInTurn(payload).catch((error: unknown) => {
      if (!(error instanceof SpoolWriteError) || error.errno !== 'ENOSPC' || this.#stopped) throw error;
      this.#logger?.warn('spool: the disk is full (ENOSPC); enqueue() waits for room', { path: error.path });
      return this.append(payload);
    });
  }

  /** Appends waiting for room reject with ProducerClosedError once room comes. */
  stop(): void {
    this.#stopped = true;
  }

  #appendInTurn(payload: Buffer): Promise<void> {
    const spool = this.#spool;
    try {
      if (this.#line === undefined && spool.hasRoom(payload.length)) {
        spool.append(payload);
        return spool.durable();
      }
    } catch (error) {
      return Promise.reject(error);
    }
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
