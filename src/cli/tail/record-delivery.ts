import type { KinesisProducer } from '../../producer.js';
import { KplError, ProducerClosedError, type UserRecord, UserRecordFailedError, ValidationError } from '../../records.js';
import type { LineRecord } from '../lines/line-record-options.js';
import type { AckedPrefix } from './acked-prefix.js';
import { RecordBacklog } from './record-backlog.js';
import type { RecordSink } from './record-sink.js';

/** Failures printed one by one before they are only counted. */
const PROBLEMS_SHOWN = 5;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
/** enqueue() calls pending at most, with a spool, before records wait in the backlog. */
const MAX_ENQUEUING = 10_000;

/** How many records and bytes (data plus key) the producer may hold before records wait in the backlog. */
export interface DeliveryLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

/**
 * Hands records to the producer and settles each in its file's prefix once Kinesis stored it, or,
 * with a spool, once the spool holds it durably (`enqueue()`). While the producer is at its limits,
 * records wait in an ordered backlog, handed over as settlements free room: the producer never
 * refuses one, and each file's records reach it in order. A record that fails (an outage longer
 * than recordTtl, a stream not there yet, a full disk) is handed over again after a backoff, so a
 * line is never lost to a failure that passes; only a record the producer rejects as invalid is
 * counted as failed and passed over.
 */
export class RecordDelivery implements RecordSink {
  readonly #producer: KinesisProducer;
  readonly #limits: DeliveryLimits;
  readonly #log: (message: string) => void;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #backlog = new RecordBacklog<DeliveryItem>();
  #drainQueued = false;
  #stopped = false;
  #problemsShown = 0;
  /** Records stored. */
  delivered = 0;
  /** Records rejected as invalid and passed over. */
  failed = 0;
  /** Records added again after a failure. */
  retried = 0;

  readonly #stopping: Promise<void>;
  readonly #spooled: boolean;
  /** enqueue() calls not yet resolved, with a spool: the producer's outstanding counts do not hold them. */
  #enqueuing = 0;
  #whenEnqueued: (() => void) | undefined;

  /**
   * @param limits what the producer may hold before records wait: at most its maxOutstandingRecords and maxOutstandingBytes.
   * @param stopping aborts when the tailer stops: waiting for room then ends at once.
   * @param spooled records go to the producer's spool with enqueue(), and count as delivered once durable there.
   */
  constructor(producer: KinesisProducer, limits: DeliveryLimits, log: (message: string) => void, stopping: AbortSignal, spooled = false) {
    this.#producer = producer;
    this.#limits = limits;
    this.#spooled = spooled;
    this.#stopping = new Promise((resolve) => {
      if (stopping.aborted) resolve();
      else stopping.addEventListener('abort', () => resolve(), { once: true });
    });
    this.#log = log;
  }

  send(record: LineRecord, stream: string, acks: AckedPrefix, endOffset: number): void {
    this.#offer(new DeliveryItem(record, stream, acks, acks.track(endOffset), 0));
  }

  /** Resolves when no record waits for room (the next read may go on), or once the tailer stops. */
  ready(): Promise<void> {
    if (this.#backlog.size === 0) return Promise.resolve();
    return Promise.race([this.#backlog.whenEmpty(), this.#stopping]);
  }

  /** Stops adding failed records again: what is unsettled stays behind the checkpoint, to be read again after a restart. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Resolves when every record handed over has settled or failed, at once if none is pending: with a spool, when all are durable. */
  async settled(): Promise<void> {
    await this.#backlog.whenEmpty();
    if (!this.#spooled) {
      await this.#producer.flush();
      return;
    }
    if (this.#enqueuing > 0) await new Promise<void>((resolve) => (this.#whenEnqueued = resolve));
  }

  /** Hands the record over, unless records wait before it or the producer is full: then it waits, in order. */
  #offer(item: DeliveryItem): void {
    if (this.#backlog.size > 0 || !this.#hasRoom(item)) this.#backlog.push(item);
    else this.#add(item);
  }

  #hasRoom(item: DeliveryItem): boolean {
    if (this.#spooled) return this.#enqueuing < MAX_ENQUEUING;
    const producer = this.#producer;
    const records = producer.outstandingRecords;
    // With nothing held, a settlement that would free room never comes: the producer decides alone.
    if (records === 0) return true;
    return (
      records < this.#limits.maxRecords && producer.outstandingBytes + item.data.length + item.partitionKey.length <= this.#limits.maxBytes
    );
  }

  /** A record settled, so there may be room: the backlog moves once the settlements of this turn are all counted. */
  #roomFreed(): void {
    if (this.#drainQueued || this.#backlog.size === 0) return;
    this.#drainQueued = true;
    queueMicrotask(this.#drain);
  }

  readonly #drain = (): void => {
    this.#drainQueued = false;
    const backlog = this.#backlog;
    for (let item = backlog.peek(); item !== undefined && this.#hasRoom(item); item = backlog.peek()) {
      backlog.shift();
      this.#add(item);
    }
  };

  #add(item: DeliveryItem): void {
    if (this.#spooled) {
      this.#enqueuing++;
      this.#producer.enqueue({ partitionKey: item.partitionKey, data: item.data, streamName: item.streamName }).then(
        () => this.#enqueued(undefined, item),
        (error: unknown) => this.#enqueued(error, item),
      );
      return;
    }
    try {
      this.#producer.addWithCallback(item, this.#onSettled);
    } catch (error) {
      this.#settle(error, item);
    }
  }

  #enqueued(error: unknown, item: DeliveryItem): void {
    if (--this.#enqueuing === 0 && this.#whenEnqueued !== undefined) {
      this.#whenEnqueued();
      this.#whenEnqueued = undefined;
    }
    this.#settle(error, item);
  }

  /** The one callback of every record added: its bookkeeping travels on the record itself. */
  readonly #onSettled = (error: Error | undefined, record: UserRecord): void => this.#settle(error, record as DeliveryItem);

  #settle(error: unknown, item: DeliveryItem): void {
    this.#roomFreed();
    if (error === undefined) {
      this.delivered++;
      item.acks.settle(item.ticket);
      return;
    }
    if (this.#stopped || error instanceof ProducerClosedError) return;
    if (error instanceof ValidationError) {
      this.failed++;
      this.#problem(`a record of ${item.data.length.toLocaleString('en-US')} bytes was rejected and passed over: ${error.message}`);
      item.acks.settle(item.ticket);
      return;
    }
    this.retried++;
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** item.failures);
    this.#problem(`a record failed (${codeOf(error)}); adding it again in ${delay.toLocaleString('en-US')} ms`);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#offer(new DeliveryItem(item.line, item.streamName, item.acks, item.ticket, item.failures + 1));
    }, delay);
    this.#timers.add(timer);
  }

  #problem(message: string): void {
    if (this.#problemsShown++ < PROBLEMS_SHOWN) this.#log(message);
  }
}

function codeOf(error: unknown): string {
  if (error instanceof UserRecordFailedError) return error.attempts[error.attempts.length - 1]?.errorCode ?? error.code;
  if (error instanceof KplError) return error.code;
  return error instanceof Error ? error.name : 'Unknown';
}

/** A record handed to the producer, carrying what settling it needs: no closure per record. */
class DeliveryItem implements UserRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;

  constructor(
    readonly line: LineRecord,
    readonly streamName: string,
    readonly acks: AckedPrefix,
    readonly ticket: number,
    readonly failures: number,
  ) {
    this.partitionKey = line.partitionKey;
    this.data = line.data;
  }
}
