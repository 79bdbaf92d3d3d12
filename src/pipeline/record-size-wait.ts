/**
 * Records over 1 MiB that came before the stream's own record size limit was known: they wait for
 * DescribeStreamSummary (through a StreamLimitsTracker), then go on or fail with a
 * ValidationError naming the limit. Nothing is sent for a record that is over it.
 */
import { LARGEST_RECORD_BYTES, MAX_RECORD_BYTES } from '../format/limits.js';
import type { PendingRecord } from '../pending-record.js';
import { recordTooLarge, type ValidationError } from '../records.js';

/** What a {@link RecordSizeWait} reads of a stream's limits: a StreamLimitsTracker (stream-limits.ts). */
export interface RecordSizeLimits {
  /** True once the limit is the stream's own (or the option's), not the default. */
  readonly known: boolean;
  readonly current: { readonly maxRecordBytes: number; readonly description: string };
  /** Reads the limits again; resolves (never rejects) once that is done or has failed. */
  refresh(): Promise<unknown>;
}

/** Where the records that waited go once the limit is read (or could not be). */
export interface RecordSizeWaitSink {
  /** Records within the limit, in arrival order: they go on into the pipeline. */
  fits(items: PendingRecord[]): void;
  /** A record over the limit, to be rejected with `error`. */
  tooLarge(item: PendingRecord, error: ValidationError): void;
}

/** Holds the records that must wait for the stream's record size limit. */
export class RecordSizeWait {
  readonly #limits: RecordSizeLimits;
  readonly #sink: RecordSizeWaitSink;
  #waiting: PendingRecord[] = [];

  constructor(limits: RecordSizeLimits, sink: RecordSizeWaitSink) {
    this.#limits = limits;
    this.#sink = sink;
  }

  /**
   * The largest record (data plus partition key) add() may take: the stream's own limit once
   * known, else 10 MiB, and a record over 1 MiB then waits for the stream's limit.
   */
  get maxRecordBytes(): number {
    return this.#limits.known ? this.#limits.current.maxRecordBytes : LARGEST_RECORD_BYTES;
  }

  /** Whose limit {@link maxRecordBytes} is, for the error of a record over it. */
  get maxRecordBytesSource(): string | undefined {
    return this.#limits.known ? this.#limits.current.description : undefined;
  }

  /** Records waiting now. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Reads the stream's limits; the records waiting then go on or fail. */
  load(): void {
    void this.#limits.refresh().then(() => this.#settled());
  }

  /**
   * For a record that may be over 1 MiB ({@link mayExceedDefaultLimit}): true when it must wait for
   * the limit (it is taken and the limit is read); false when the limit is known and it may go on.
   */
  holds(item: PendingRecord): boolean {
    if (this.#limits.known) return false;
    this.#waiting.push(item);
    this.load();
    return true;
  }

  /** Takes every waiting record, for the pipeline to fail as it closes. */
  close(): PendingRecord[] {
    return this.#waiting.splice(0);
  }

  #settled(): void {
    if (this.#waiting.length === 0) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    const { maxRecordBytes, description } = this.#limits.current;
    const fits: PendingRecord[] = [];
    for (const item of waiting) {
      const total = item.data.length + Buffer.byteLength(item.partitionKey, 'utf8');
      if (total <= maxRecordBytes) fits.push(item);
      else this.#sink.tooLarge(item, recordTooLarge(total, maxRecordBytes, description));
    }
    // Unknown still (the read failed): what fits 1 MiB goes on; the next large record asks again.
    this.#sink.fits(fits);
  }
}

/**
 * Whether a record may be over the service's default limit of 1 MiB, read without encoding its key:
 * a key takes at most 3 UTF-8 bytes per code unit, so this may hold back a record that fits, never
 * let one through that does not. The pipeline writes this test inline on its hot path.
 */
export function mayExceedDefaultLimit(item: PendingRecord): boolean {
  return item.data.length + 3 * item.partitionKey.length > MAX_RECORD_BYTES;
}
