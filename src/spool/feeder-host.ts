import type { Logger } from '../config.js';
import type { UserRecord, UserRecordFailedError } from '../records.js';
import type { Settle } from './add-waiters.js';

/** A user record that may name its own stream, as the producer takes it. */
export interface SpoolRecord extends UserRecord {
  readonly streamName?: string;
}

/** What the feeder needs from the producer. */
export interface SpoolFeederHost {
  /** Room left in the in-memory window: records and payload bytes under maxOutstandingRecords/Bytes. */
  windowRoom(): { readonly records: number; readonly bytes: number };
  /** Gives a record read back from the spool to the pipeline; `settle` is called once with its outcome. False when the window has no room for it. */
  submit(record: SpoolRecord, data: Uint8Array, settle: Settle): boolean;
}

/** Options of a {@link SpoolFeeder}. */
export interface SpoolFeederOptions {
  readonly failIfThrottled: boolean;
  /** Most add() records spooled and not yet settled (maxOutstandingRecords): each holds a promise in memory. */
  readonly maxWaitingAdds: number;
  /** How long a record whose attempts ran out in the pipeline waits before it is sent again, ms. */
  readonly retryDelayMs: number;
  readonly onFailure?: ((error: UserRecordFailedError) => void) | undefined;
  readonly logger?: Logger | undefined;
}
