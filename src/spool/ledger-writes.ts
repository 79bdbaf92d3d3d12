import type { Logger } from '../config.js';
import type { SpoolWriteError } from './errors.js';
import type { AckLedger } from './ledger.js';

/**
 * Writes the acknowledgements of one turn of the event loop together, without an fsync: a killed
 * process loses none that were written, and a power cut at worst sends their records again.
 */
export class LedgerWrites {
  readonly #ledgers: () => Iterable<AckLedger>;
  readonly #logger: Logger | undefined;
  #queued = false;
  #closed = false;

  /** `ledgers` gives the ledgers of the segments held now. */
  constructor(ledgers: () => Iterable<AckLedger>, logger: Logger | undefined) {
    this.#ledgers = ledgers;
    this.#logger = logger;
  }

  /** Writes every ledger's new acknowledgements at the end of this turn of the event loop. */
  queue(): void {
    if (this.#queued || this.#closed) return;
    this.#queued = true;
    setImmediate(() => {
      this.#queued = false;
      if (!this.#closed) this.#writeAll();
    });
  }

  /** Writes what is pending synchronously and closes every ledger: the spool is closing. */
  close(): void {
    this.#closed = true;
    for (const ledger of this.#ledgers()) {
      try {
        ledger.writePendingSync();
      } catch (error) {
        this.#logger?.error('spool: could not write an acknowledgement ledger', { path: (error as SpoolWriteError).path });
      }
      ledger.close();
    }
  }

  #writeAll(): void {
    const reported = (error: SpoolWriteError | undefined): void => {
      if (error !== undefined)
        this.#logger?.error('spool: could not write an acknowledgement ledger', { path: error.path, errno: error.errno });
    };
    for (const ledger of this.#ledgers()) ledger.writePending(false, reported);
  }
}
