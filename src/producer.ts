import { Writable } from 'node:stream';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { Registry } from 'prom-client';
import { type ProducerConfig, type ResolvedConfig, resolveConfig } from './config.js';
import { ProducerMetrics } from './metrics.js';
import { OutstandingRecords } from './outstanding-records.js';
import { monotonicMs, outstandingBytesOf, PendingRecord } from './pending-record.js';
import { createKinesisClient } from './pipeline/kinesis-client.js';
import {
  BufferFullError,
  ProducerClosedError,
  type RecordCallback,
  type UserRecord,
  type UserRecordResult,
  ValidationError,
  validateUserRecord,
} from './records.js';
import { type ShardRateReport, StreamPipeline } from './pipeline/stream-pipeline.js';
import { openSpoolFeeder, type SpoolFeeder } from './spool/open-spool-feeder.js';
import type { SpoolStats } from './spool/spool.js';

/** A user record that names its own stream instead of the producer's. */
export interface StreamUserRecord extends UserRecord {
  /** The stream this record goes to; each stream gets its own pipeline on first use. @default the producer's stream */
  readonly streamName?: string;
}

/*
 * add() takes its promise's resolve through one module-level executor instead of a closure per
 * call: the hot path then allocates no function context of its own.
 */
let capturedResolve: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void = () => undefined;
function captureResolve(resolve: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void): void {
  capturedResolve = resolve;
}

/** The `resolve` of a record added with a callback: never called, as the settle step tells the callback instead. */
function noPromise(): void {}

/**
 * At least what a record will hold of maxOutstandingBytes, read without validating or encoding it:
 * a string's UTF-8 bytes are never fewer than its UTF-16 code units.
 */
function minOutstandingBytes(record: StreamUserRecord): number {
  if (typeof record !== 'object' || record === null) return 0;
  const { data, partitionKey } = record;
  const dataLength = typeof data === 'string' || data instanceof Uint8Array ? data.length : 0;
  return dataLength + (typeof partitionKey === 'string' ? partitionKey.length : 0);
}

/** A record's share of maxOutstandingBytes before it is validated, for waiting on room. */
function outstandingBytesOfRecord(record: StreamUserRecord): number {
  const dataBytes = typeof record.data === 'string' ? Buffer.byteLength(record.data) : record.data.length;
  return dataBytes + record.partitionKey.length;
}

/**
 * Buffers, aggregates and sends user records to a Kinesis data stream, as the KPL does.
 * `add()` returns a promise that says where the record landed, or why it could not be delivered.
 */
export class KinesisProducer {
  /** The prom-client registry holding this producer's metrics. */
  readonly metrics: Registry;
  readonly #config: ResolvedConfig;
  readonly #client: KinesisClient;
  readonly #ownsClient: boolean;
  readonly #pipelines = new Map<string, StreamPipeline>();
  readonly #defaultPipeline: StreamPipeline;
  readonly #metrics: ProducerMetrics | undefined;
  /** Scratch for the record being added: validation writes its hash key here, so no per-record array is allocated. */
  readonly #hashKey = new Uint32Array(4);
  readonly #outstanding: OutstandingRecords;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** With a spool: appends what add() and enqueue() take and feeds the pipeline from disk. */
  readonly #spool: SpoolFeeder | undefined;

  /** @throws ValidationError when an option is unknown, of the wrong type or out of range. */
  constructor(config: ProducerConfig) {
    this.#config = resolveConfig(config);
    const resolved = this.#config;
    this.#outstanding = new OutstandingRecords({ maxRecords: resolved.maxOutstandingRecords, maxBytes: resolved.maxOutstandingBytes });
    this.#ownsClient = resolved.client === undefined;
    this.#client =
      resolved.client ??
      createKinesisClient({
        ...(resolved.region !== undefined ? { region: resolved.region } : {}),
        ...(resolved.endpoint !== undefined ? { endpoint: resolved.endpoint } : {}),
        ...(resolved.credentials !== undefined ? { credentials: resolved.credentials } : {}),
        maxConnections: resolved.maxConnections,
        requestTimeout: resolved.requestTimeout,
        http2: resolved.http2,
      });
    this.metrics = resolved.metricsRegistry ?? new Registry();
    this.#metrics =
      resolved.metricsLevel === 'none'
        ? undefined
        : new ProducerMetrics({
            registry: this.metrics,
            level: resolved.metricsLevel,
            granularity: resolved.metricsGranularity,
            pending: () => this.#outstanding.size,
          });
    this.#defaultPipeline = this.#createPipeline(resolved.stream.streamARN ?? (resolved.stream.streamName as string), resolved.stream);
    this.#defaultPipeline.start();
    this.#spool =
      resolved.spool === undefined
        ? undefined
        : openSpoolFeeder(resolved, this.metrics, {
            windowRoom: () => ({
              records: resolved.maxOutstandingRecords - this.#outstanding.size,
              bytes: resolved.maxOutstandingBytes - this.#outstanding.bytes,
            }),
            submit: (record, data, settle) => this.#admit(record, data, settle),
          });
  }

  /** With a spool: its counts (bytes and records held, recovered, delivered...); undefined without one. */
  get spoolStats(): SpoolStats | undefined {
    return this.#spool?.spool.stats;
  }

  /**
   * With a spool: validates the record, appends it to the spool and resolves once it is durable on
   * disk (after the fsync that covers it); delivery is then the spool's job, and failures go to
   * `spool.onFailure`. At spool.maxBytes, or on a full disk, it waits for room. Rejects with
   * ValidationError (bad input, or no spool configured), ProducerClosedError, or SpoolWriteError (the
   * file system refused the write for another reason, with the path).
   */
  enqueue(record: StreamUserRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new ProducerClosedError());
    if (this.#spool === undefined) {
      return Promise.reject(new ValidationError('spool', 'enqueue() needs a spool: set spool: { directory } in the producer config'));
    }
    return this.#spool.enqueue(record);
  }

  /** Records accepted by add() and not yet settled; with a spool, the records it holds (enqueued ones too). */
  get outstandingRecords(): number {
    // With a spool, what is accepted and unsettled is what the spool holds.
    if (this.#spool !== undefined) return this.#spool.spool.records;
    return this.#outstanding.size;
  }

  /** Payload bytes (data + partition keys) accepted and not yet settled. */
  get outstandingBytes(): number {
    return this.#outstanding.bytes;
  }

  /**
   * Buffers one record. Resolves when Kinesis has it, with the shard and sequence number; rejects with
   * ValidationError (bad input, at once), BufferFullError (at maxOutstandingRecords/Bytes, at once),
   * ProducerClosedError, or UserRecordFailedError (retries ended, recordTtl passed, or failIfThrottled).
   */
  add(record: StreamUserRecord): Promise<UserRecordResult> {
    if (this.#spool !== undefined && !this.#closed) return this.#spool.add(record);
    try {
      return this.#enqueue(record, undefined) as Promise<UserRecordResult>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Buffers one record like add(), but tells `callback` its outcome instead of returning a promise:
   * no promise and no UserRecordResult per record, which is most of what a record costs a caller
   * that only counts outcomes (`kpl send` and `kpl tail`: bench/forward.ts, BENCHMARKS.md). One
   * callback serves any number of records. flush(), close(), ready() and the outstanding counts
   * cover these records as they do add()'s. With a spool the record is spooled as add() spools it,
   * and the callback is told once Kinesis stored it or it failed.
   *
   * @throws at once what add() rejects with at once: ValidationError, BufferFullError, ProducerClosedError.
   */
  addWithCallback(record: StreamUserRecord, callback: RecordCallback): void {
    if (this.#spool !== undefined && !this.#closed) {
      void this.#spool.add(record).then(
        () => callback(undefined, record),
        (error: unknown) => callback(error as Error, record),
      );
      return;
    }
    void this.#enqueue(record, callback);
  }

  /**
   * Each open shard's rate now, per stream: what the per-shard limiter lets through, in records/s
   * and bytes/s, and as a share of `rateLimit` %. With `adaptiveRateLimit` it is the rate each
   * shard adapted to; `kpl bench` prints it.
   */
  shardRates(): Array<ShardRateReport & { readonly stream: string }> {
    const rates: Array<ShardRateReport & { readonly stream: string }> = [];
    for (const pipeline of this.#pipelines.values())
      for (const rate of pipeline.shardRates()) rates.push({ stream: pipeline.label, ...rate });
    return rates;
  }

  /**
   * Sends everything buffered now and resolves when every record added before the call has settled.
   * With a spool, also every record spooled before the call: through an outage it waits until the
   * link returns and the backlog is delivered.
   */
  flush(): Promise<void> {
    if (this.#spool !== undefined) return Promise.all([this.#spool.spool.whenDone(), this.#flushWindow()]).then(() => undefined);
    return this.#flushWindow();
  }

  #flushWindow(): Promise<void> {
    const settled = this.#outstanding.onSettled();
    for (const pipeline of this.#pipelines.values()) pipeline.flush();
    return settled;
  }

  /**
   * Flushes, then stops timers and connections. add() after close() rejects with ProducerClosedError.
   * With a spool it does not wait for the spool's backlog (that may take an outage): it stops at once,
   * syncs the spool and leaves every record not yet delivered in it for the next process, which sends
   * it; call flush() first to wait for delivery.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  /**
   * Resolves when the producer is below maxOutstandingRecords and maxOutstandingBytes, at once if it
   * already is; with a spool, when fewer than maxOutstandingRecords add() records wait for Kinesis.
   */
  ready(): Promise<void> {
    if (this.#spool !== undefined) return this.#spool.addRoom();
    return this.#outstanding.onRoom(0);
  }

  /**
   * An object-mode Writable taking UserRecords. It holds back its write callback while the producer is
   * full, so `pipeline(source, producer.writable())` never overfills, and it errors on the first record
   * that fails. Its end waits until every record written has settled. With a spool a write completes
   * once its record is durable (enqueue()), failures go to spool.onFailure, and the end waits for flush().
   */
  writable(): Writable {
    const spool = this.#spool;
    if (spool !== undefined) {
      // With a spool a write is done once it is durable; delivery failures go to spool.onFailure.
      return new Writable({
        objectMode: true,
        write: (record: StreamUserRecord, _encoding, callback) => void spool.enqueue(record).then(() => callback(), callback),
        final: (callback) => void this.flush().then(() => callback(), callback),
      });
    }
    let failure: Error | undefined;
    /** Records written and not yet settled; the end waits for every one of them, not only for flush(). */
    let unsettled = 0;
    let whenSettled: (() => void) | undefined;
    const delivered = (): void => {
      if (--unsettled === 0 && whenSettled !== undefined) whenSettled();
    };
    const failed = (error: unknown): void => {
      if (failure === undefined) {
        failure = error as Error;
        stream.destroy(failure);
      }
      delivered();
    };
    // One function for every record: a closure is made only when a record must wait for room.
    const write = (record: StreamUserRecord, callback: (error?: Error | null) => void): void => {
      let delivery: Promise<UserRecordResult>;
      try {
        delivery = this.#enqueue(record, undefined) as Promise<UserRecordResult>;
      } catch (error) {
        if (error instanceof BufferFullError) {
          // ready() would resolve as soon as the producer is below its limits, which may still
          // be too little room for this record: wait for room for its own bytes.
          void this.#outstanding.onRoom(outstandingBytesOfRecord(record)).then(() => write(record, callback));
          return;
        }
        callback(error as Error);
        return;
      }
      unsettled++;
      delivery.then(delivered, failed);
      callback();
    };
    const stream = new Writable({
      objectMode: true,
      write: (record: StreamUserRecord, _encoding, callback) => write(record, callback),
      final: (callback) => {
        const finish = (): void => callback(failure);
        void this.flush().then(() => {
          if (unsettled === 0) finish();
          else whenSettled = finish;
        }, callback);
      },
    });
    return stream;
  }

  /** Takes a record in; returns add()'s promise, or nothing when `callback` is told the outcome instead. */
  #enqueue(record: StreamUserRecord, callback: RecordCallback | undefined): Promise<UserRecordResult> | undefined {
    if (this.#closed) throw new ProducerClosedError();
    const outstanding = this.#outstanding;
    outstanding.refuseIfFull(minOutstandingBytes(record));
    const hashKey = this.#hashKey;
    // Bad input is validated below; a record that is not even an object goes to the default stream's checks.
    const streamName = (record as Partial<StreamUserRecord> | null | undefined)?.streamName;
    const pipeline = streamName === undefined ? this.#defaultPipeline : this.#pipelineFor(streamName);
    const data = validateUserRecord(record, hashKey, 0, pipeline.maxRecordBytes, pipeline.maxRecordBytesSource);
    const bytes = outstandingBytesOf(record.partitionKey, data);
    const generation = outstanding.add(bytes);
    const promise = callback === undefined ? new Promise<UserRecordResult>(captureResolve) : undefined;
    const item = new PendingRecord(
      record,
      data,
      monotonicMs(),
      generation,
      callback === undefined ? capturedResolve : noPromise,
      bytes,
      callback,
    );
    this.#metrics?.recordReceived(pipeline.label);
    pipeline.add(item, hashKey, 0);
    return promise;
  }

  /** Puts a record read back from the spool into its stream's pipeline, counted in the window; `settle` settles it. False when the window is full. */
  #admit(record: StreamUserRecord, data: Uint8Array, settle: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void): boolean {
    const bytes = outstandingBytesOf(record.partitionKey, data);
    if (this.#outstanding.size >= this.#config.maxOutstandingRecords || this.#outstanding.bytes + bytes > this.#config.maxOutstandingBytes)
      return false;
    const hashKey = this.#hashKey;
    const pipeline = record.streamName === undefined ? this.#defaultPipeline : this.#pipelineFor(record.streamName);
    validateUserRecord(record, hashKey, 0, pipeline.maxRecordBytes, pipeline.maxRecordBytesSource);
    const generation = this.#outstanding.add(bytes);
    const item = new PendingRecord(record, data, monotonicMs(), generation, settle, bytes);
    this.#metrics?.recordReceived(pipeline.label);
    pipeline.add(item, hashKey, 0);
    return true;
  }

  #pipelineFor(streamName: string): StreamPipeline {
    const existing = this.#pipelines.get(streamName);
    if (existing !== undefined) return existing;
    if (typeof streamName !== 'string' || streamName.length === 0) {
      throw new ValidationError('streamName', "a record's streamName must be a non-empty string");
    }
    const pipeline = this.#createPipeline(streamName, { streamName });
    pipeline.start();
    return pipeline;
  }

  #createPipeline(label: string, stream: { streamName?: string; streamARN?: string }): StreamPipeline {
    const pipeline = new StreamPipeline(
      {
        config: this.#config,
        client: this.#client,
        observer: this.#metrics,
        settled: (item) => this.#settled(item),
      },
      stream,
    );
    this.#pipelines.set(label, pipeline);
    return pipeline;
  }

  #settled(item: PendingRecord): void {
    this.#outstanding.settled(item.outstandingBytes, item.generation);
  }

  async #shutDown(): Promise<void> {
    this.#closed = true;
    if (this.#spool !== undefined) {
      // Whatever the window holds stays in the spool: nothing here waits for the link.
      this.#spool.stop();
      for (const pipeline of this.#pipelines.values()) pipeline.close();
      await this.#spool.spool.close();
    } else {
      await this.flush();
      for (const pipeline of this.#pipelines.values()) pipeline.close();
    }
    this.#outstanding.close();
    if (this.#ownsClient) this.#client.destroy();
  }
}
