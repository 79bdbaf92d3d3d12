import { setTimeout as sleep } from 'node:timers/promises';
import type { KinesisProducer } from '../../producer.js';
import { KplError, ProducerClosedError, UserRecordFailedError, ValidationError } from '../../records.js';
import type { LineRecord } from '../lines/line-record-reader.js';
import type { AckedPrefix } from './acked-prefix.js';
import type { RecordSink } from './flow-tailer.js';

/** Failures printed one by one before they are only counted. */
const PROBLEMS_SHOWN = 5;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * Hands records to the producer and settles each in its file's prefix once Kinesis stored it. A
 * record that fails (an outage longer than recordTtl, a stream not there yet) is added again after a
 * backoff, so a line is never lost to a failure that passes; only a record the producer rejects as
 * invalid is counted as failed and passed over.
 */
export class RecordDelivery implements RecordSink {
  readonly #producer: KinesisProducer;
  readonly #maxOutstandingBytes: number;
  readonly #log: (message: string) => void;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  #problemsShown = 0;
  /** Records stored. */
  delivered = 0;
  /** Records rejected as invalid and passed over. */
  failed = 0;
  /** Records added again after a failure. */
  retried = 0;

  readonly #stopping: Promise<void>;
  readonly #signal: AbortSignal;

  /** @param stopping aborts when the tailer stops: waiting for room then ends at once. */
  constructor(producer: KinesisProducer, maxOutstandingBytes: number, log: (message: string) => void, stopping: AbortSignal) {
    this.#producer = producer;
    this.#stopping = new Promise((resolve) => stopping.addEventListener('abort', () => resolve(), { once: true }));
    this.#signal = stopping;
    this.#maxOutstandingBytes = maxOutstandingBytes;
    this.#log = log;
  }

  send(record: LineRecord, stream: string, acks: AckedPrefix, endOffset: number): void {
    this.#add(record, stream, acks, acks.track(endOffset), 0);
  }

  async ready(): Promise<void> {
    for (;;) {
      await Promise.race([this.#producer.ready(), this.#stopping]);
      if (this.#signal.aborted || this.#producer.outstandingBytes < this.#maxOutstandingBytes) return;
      await sleep(1);
    }
  }

  /** Stops adding failed records again: what is unsettled stays behind the checkpoint, to be read again after a restart. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #add(record: LineRecord, stream: string, acks: AckedPrefix, ticket: number, failures: number): void {
    this.#producer.add({ partitionKey: record.partitionKey, data: record.data, streamName: stream }).then(() => {
      this.delivered++;
      acks.settle(ticket);
    }, (error: unknown) => {
      if (this.#stopped || error instanceof ProducerClosedError) return;
      if (error instanceof ValidationError) {
        this.failed++;
        this.#problem(`a record of ${record.data.length.toLocaleString('en-US')} bytes was rejected and passed over: ${error.message}`);
        acks.settle(ticket);
        return;
      }
      this.retried++;
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures);
      this.#problem(`a record failed (${codeOf(error)}); adding it again in ${delay.toLocaleString('en-US')} ms`);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#add(record, stream, acks, ticket, failures + 1);
      }, delay);
      this.#timers.add(timer);
    });
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
