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
} from '@aws-sdk/client-kinesis';
import { streamCollector } from '@smithy/node-http-handler';
import type { BuildMiddleware, DeserializeMiddleware } from '@smithy/types';
import type { KinesisRecord } from '../format/aggregate-encoder.js';
import { encodePutRecordsBody } from '../format/put-records-body.js';
import { parsePutRecordsResponse, type RecordOutcome, recordOutcomes } from '../format/put-records-response.js';
import type { BufferPool } from './buffer-pool.js';
import { describeKinesisError, PRODUCER_CLOSED_ERROR_CODE, streamParameters, type StreamRef } from './kinesis-client.js';

export type { RecordOutcome } from '../format/put-records-response.js';

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
      const read: ReadResults = { outcomes: undefined, recordsSent: records.length };
      command.middlewareStack.add(readingResults(read), READ_RESULTS_OPTIONS);
      const response = await this.#client.send(command, { abortSignal: controller.signal });
      this.#buffers?.release(body);
      const outcomes = read.outcomes ?? recordOutcomes(response.Records ?? [], records.length);
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
/** Innermost of the deserialize step: it sees the raw response before the SDK's deserialiser does. */
const READ_RESULTS_OPTIONS = { step: 'deserialize', priority: 'low', name: 'kplPutRecordsResults', override: true } as const;

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

/** Where {@link readingResults} leaves the outcomes it read. */
interface ReadResults {
  outcomes: RecordOutcome[] | undefined;
  readonly recordsSent: number;
}

/**
 * Reads the entries of a successful response itself (parsePutRecordsResponse says why) and hands
 * the SDK's deserialiser an empty JSON object instead, so that the SDK still checks the status,
 * builds the metadata and turns error responses into its typed errors. A body it cannot read goes
 * to the SDK unchanged, to fail there as it would have.
 */
function readingResults(into: ReadResults): DeserializeMiddleware<PutRecordsCommandInput, PutRecordsCommandOutput> {
  return (next) => async (args) => {
    const result = await next(args);
    const response = result.response as { statusCode?: number; body?: unknown };
    if (response.statusCode === 200 && response.body !== undefined) {
      const body = await streamCollector(response.body as Parameters<typeof streamCollector>[0]);
      into.outcomes = parsePutRecordsResponse(body, into.recordsSent);
      // A new one each time: the SDK changes the prototype of the body it is given.
      response.body = into.outcomes === undefined ? body : Uint8Array.of(0x7b, 0x7d);
    }
    return result;
  };
}

function failed(errorCode: string, errorMessage: string, started: number): SendOutcome {
  return { kind: 'failed', errorCode, errorMessage, durationMs: performance.now() - started };
}
