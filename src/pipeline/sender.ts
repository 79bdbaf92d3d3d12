/**
 * The sender: one PutRecords request per batch, at most maxConnections in flight, and a plain
 * outcome per request or per record that the retrier can classify. It never throws: every fault,
 * from throttling to a refused connection to a hung server, becomes an outcome with a code.
 */
import {
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import type { BuildMiddleware } from '@smithy/types';
import type { KinesisRecord } from '../format/aggregated-record.js';
import { encodePutRecordsBody } from '../format/put-records-body.js';
import type { BufferPool } from './buffer-pool.js';
import { describeKinesisError, streamParameters, type StreamRef } from './kinesis-client.js';

/** Where one Kinesis record of a request landed, or why it did not. */
export type RecordOutcome =
  | { shardId: string; sequenceNumber: string; errorCode?: undefined }
  | { errorCode: string; errorMessage: string };

/** The result of one PutRecords request. */
export type SendOutcome =
  /** The request got an answer; `records` follows the input order, each a success or a failure. */
  | { kind: 'sent'; records: RecordOutcome[]; durationMs: number }
  /** The whole request failed: every record of it failed with this code. */
  | { kind: 'failed'; errorCode: string; errorMessage: string; durationMs: number };

/** Options of a {@link Sender}. */
export interface SenderOptions {
  /** Requests the producer keeps in flight at most; {@link Sender.hasCapacity} reports against it. */
  maxConnections: number;
  /** Milliseconds after which a request is aborted and fails with 'RequestTimeout'. */
  requestTimeout: number;
  /**
   * Where request bodies come from, and where each record's data goes back once the body holds
   * it: the sender is the last reader of both. A body goes back after a request that got an
   * answer; after a failure the connection may still hold it, so it is left to the garbage collector.
   */
  buffers?: BufferPool | undefined;
}

/** Error code of a request aborted because its requestTimeout passed. */
export const REQUEST_TIMEOUT_ERROR_CODE = 'RequestTimeout';
/** Error code of a request aborted by {@link Sender.close}. */
export const PRODUCER_CLOSED_ERROR_CODE = 'ProducerClosed';

/** Sends PutRecords requests for one stream. */
export class Sender {
  readonly #client: KinesisClient;
  readonly #streamParameters: { StreamName?: string; StreamARN?: string };
  readonly #maxConnections: number;
  readonly #requestTimeout: number;
  readonly #buffers: BufferPool | undefined;
  readonly #inFlight = new Set<AbortController>();
  #closed = false;

  constructor(client: KinesisClient, stream: StreamRef, options: SenderOptions) {
    if (!Number.isInteger(options.maxConnections) || options.maxConnections < 1) {
      throw new RangeError(`maxConnections must be an integer, 1 or more; got ${options.maxConnections}`);
    }
    if (!Number.isFinite(options.requestTimeout) || options.requestTimeout <= 0) {
      throw new RangeError(`requestTimeout must be a finite number of ms above 0; got ${options.requestTimeout}`);
    }
    this.#client = client;
    this.#streamParameters = streamParameters(stream);
    this.#maxConnections = options.maxConnections;
    this.#requestTimeout = options.requestTimeout;
    this.#buffers = options.buffers;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** True while fewer than maxConnections requests are in flight. */
  get hasCapacity(): boolean {
    return this.#inFlight.size < this.#maxConnections;
  }

  /**
   * Sends one PutRecords request and resolves with its outcome; never rejects. The request is
   * really aborted when requestTimeout passes (errorCode 'RequestTimeout') or the sender closes
   * (errorCode 'ProducerClosed'). Other failures carry the Kinesis error code
   * (ProvisionedThroughputExceededException, InternalFailure, ResourceNotFoundException, ...) or
   * the Node network code (ECONNRESET, ECONNREFUSED, ...).
   */
  async send(records: readonly KinesisRecord[]): Promise<SendOutcome> {
    const started = performance.now();
    if (this.#closed) {
      return failed(PRODUCER_CLOSED_ERROR_CODE, 'the sender is closed; the request was not sent', started);
    }
    const controller = new AbortController();
    let timedOut = false;
    // A cleared timer instead of AbortSignal.timeout: a finished request leaves nothing pending.
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#requestTimeout);
    this.#inFlight.add(controller);
    try {
      const body = this.#encodeBody(records);
      const command = new PutRecordsCommand({ ...this.#streamParameters, Records: EMPTY_RECORDS });
      command.middlewareStack.add(withBody(body), WITH_BODY_OPTIONS);
      const response = await this.#client.send(command, { abortSignal: controller.signal });
      this.#buffers?.release(body);
      const results = response.Records ?? [];
      const outcomes = new Array<RecordOutcome>(records.length);
      for (let i = 0; i < records.length; i++) outcomes[i] = toRecordOutcome(results[i]);
      return { kind: 'sent', records: outcomes, durationMs: performance.now() - started };
    } catch (error) {
      if (timedOut || (error instanceof Error && error.name === 'TimeoutError')) {
        return failed(REQUEST_TIMEOUT_ERROR_CODE, `PutRecords got no answer within requestTimeout (${this.#requestTimeout} ms)`, started);
      }
      if (controller.signal.aborted) {
        return failed(PRODUCER_CLOSED_ERROR_CODE, 'the sender was closed while the request was in flight', started);
      }
      const { errorCode, errorMessage } = describeKinesisError(error);
      return failed(errorCode, errorMessage, started);
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
  }

  #encodeBody(records: readonly KinesisRecord[]): Buffer {
    const buffers = this.#buffers;
    if (buffers === undefined) return encodePutRecordsBody(this.#streamParameters, records);
    const body = encodePutRecordsBody(this.#streamParameters, records, (size) => buffers.acquire(size));
    for (const record of records) buffers.release(record.data);
    return body;
  }

  /** Aborts the requests still in flight (they resolve as failed with 'ProducerClosed') and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const controller of this.#inFlight) controller.abort();
  }
}

const EMPTY_RECORDS: PutRecordsRequestEntry[] = [];
const WITH_BODY_OPTIONS = { step: 'build', name: 'kplPutRecordsBody', override: true } as const;

/**
 * Puts our own serialisation of the records in place of the SDK's (see encodePutRecordsBody):
 * the command carries no records, so the SDK serialises almost nothing, and this build-step
 * middleware sets the body before the request is signed and sent.
 */
function withBody(body: Buffer): BuildMiddleware<PutRecordsCommandInput, PutRecordsCommandOutput> {
  return (next) => (args) => {
    const request = args.request as { body?: unknown; headers?: Record<string, string> };
    request.body = body;
    if (request.headers !== undefined) request.headers['content-length'] = String(body.length);
    return next(args);
  };
}

function toRecordOutcome(result: PutRecordsResultEntry | undefined): RecordOutcome {
  if (result === undefined) {
    return { errorCode: 'InternalFailure', errorMessage: 'PutRecords answered with fewer results than records sent' };
  }
  if (result.ErrorCode !== undefined && result.ErrorCode !== '') {
    return { errorCode: result.ErrorCode, errorMessage: result.ErrorMessage ?? result.ErrorCode };
  }
  if (result.ShardId === undefined || result.SequenceNumber === undefined) {
    return { errorCode: 'InternalFailure', errorMessage: 'PutRecords answered a record with neither an error nor a shard and sequence number' };
  }
  return { shardId: result.ShardId, sequenceNumber: result.SequenceNumber };
}

function failed(errorCode: string, errorMessage: string, started: number): SendOutcome {
  return { kind: 'failed', errorCode, errorMessage, durationMs: performance.now() - started };
}
