import { Writable } from 'node:stream';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { Registry } from 'prom-client';
import { type ProducerConfig, type ResolvedConfig, resolveConfig } from './config.js';
import { ProducerMetrics } from './metrics.js';
import { monotonicMs, outstandingBytesOf, PendingRecord } from './pending-record.js';
import { createKinesisClient } from './pipeline/kinesis-client.js';
import { BufferFullError, ProducerClosedError, type UserRecord, type UserRecordResult, ValidationError, validateUserRecord } from './records.js';
import { StreamPipeline } from './stream-pipeline.js';
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

/** A record's share of maxOutstandingBytes before it is validated, for waiting on room. */
function outstandingBytesOfRecord(record: StreamUserRecord): number {
  const dataBytes = typeof record.data === 'string' ? Buffer.byteLength(record.data) : record.data.length;
  return dataBytes + record.partitionKey.length;
}

interface RoomWaiter {
  readonly bytes: number;
  readonly wake: () => void;
}

interface FlushWaiter {
  readonly generation: number;
  readonly resolve: () => void;
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
  #outstandingRecords = 0;
  #outstandingBytes = 0;
  /** Outstanding records per flush() generation, oldest first; flush() waits for the ones before it. */
  #generationCounts: number[] = [0];
  #oldestGeneration = 0;
  #flushWaiters: FlushWaiter[] = [];
  /** Callers of ready() (bytes 0) and writables waiting for room for one record of `bytes`. */
  #roomWaiters: RoomWaiter[] = [];
  #closed = false;
  #closing: Promise<void> | undefined;
  /** With a spool: appends what add() and enqueue() take and feeds the pipeline from disk. */
  readonly #spool: SpoolFeeder | undefined;

  /** @throws ValidationError when an option is unknown, of the wrong type or out of range. */
  constructor(config: ProducerConfig) {
    this.#config = resolveConfig(config);
    const resolved = this.#config;
    this.#ownsClient = resolved.client === undefined;
    this.#client = resolved.client ?? createKinesisClient({
      ...(resolved.region !== undefined ? { region: resolved.region } : {}),
      ...(resolved.endpoint !== undefined ? { endpoint: resolved.endpoint } : {}),
      ...(resolved.credentials !== undefined ? { credentials: resolved.credentials } : {}),
      maxConnections: resolved.maxConnections,
      requestTimeout: resolved.requestTimeout,
      http2: resolved.http2,
    });
    this.metrics = resolved.metricsRegistry ?? new Registry();
    this.#metrics = resolved.metricsLevel === 'none' ? undefined : new ProducerMetrics({
      registry: this.metrics,
      level: resolved.metricsLevel,
      granularity: resolved.metricsGranularity,
      pending: () => this.#outstandingRecords,
    });
    this.#defaultPipeline = this.#createPipeline(resolved.stream.streamARN ?? resolved.stream.streamName as string, resolved.stream);
    this.#defaultPipeline.start();
    this.#spool = resolved.spool === undefined ? undefined : openSpoolFeeder(resolved, this.metrics, {
      windowRoom: () => ({
        records: resolved.maxOutstandingRecords - this.#outstandingRecords,
        bytes: resolved.maxOutstandingBytes - this.#outstandingBytes,
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
   * `spool.onFailure`. At spool.maxBytes it waits for room. Rejects with ValidationError (bad input,
   * or no spool configured), ProducerClosedError, or SpoolWriteError (the file system refused the
   * write, e.g. ENOSPC, with the path).
   */
  enqueue(record: StreamUserRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new ProducerClosedError());
    if (this.#spool === undefined) {
      return Promise.reject(new ValidationError('spool', 'enqueue() needs a spool: set spool: { directory } in the producer config'));
    }
    return this.#spool.enqueue(record);
  }

  /** Records accepted by add() and not yet settled. */
  get outstandingRecords(): number {
    return this.#outstandingRecords;
  }

  /** Payload bytes (data + partition keys) accepted and not yet settled. */
  get outstandingBytes(): number {
    return this.#outstandingBytes;
  }

  /**
   * Buffers one record. Resolves when Kinesis has it, with the shard and sequence number; rejects with
   * ValidationError (bad input, at once), BufferFullError (at maxOutstandingRecords/Bytes, at once),
   * ProducerClosedError, or UserRecordFailedError (retries ended, recordTtl passed, or failIfThrottled).
   */
  add(record: StreamUserRecord): Promise<UserRecordResult> {
    if (this.#spool !== undefined && !this.#closed) return this.#spool.add(record);
    try {
      return this.#enqueue(record);
    } catch (error) {
      return Promise.reject(error as Error);
    }
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
    const generation = this.#oldestGeneration + this.#generationCounts.length - 1;
    this.#generationCounts.push(0);
    if (this.#generationCounts[0] === 0) this.#retireGenerations();
    for (const pipeline of this.#pipelines.values()) pipeline.flush();
    if (this.#settledThrough(generation)) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push({ generation, resolve }));
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

  /** Resolves when the producer is below maxOutstandingRecords and maxOutstandingBytes, at once if it already is. */
  ready(): Promise<void> {
    return this.#roomFor(0);
  }

  /**
   * An object-mode Writable taking UserRecords. It holds back its write callback while the producer is
   * full, so `pipeline(source, producer.writable())` never overfills, and it errors on the first record
   * that fails. Its end waits until every record written has settled.
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
    const settled = (): void => {
      if (--unsettled === 0 && whenSettled !== undefined) whenSettled();
    };
    const stream = new Writable({
      objectMode: true,
      write: (record: StreamUserRecord, _encoding, callback) => {
        const send = (): void => {
          let delivery: Promise<UserRecordResult>;
          try {
            delivery = this.#enqueue(record);
          } catch (error) {
            if (error instanceof BufferFullError) {
              // ready() would resolve as soon as the producer is below its limits, which may still
              // be too little room for this record: wait for room for its own bytes.
              void this.#roomFor(outstandingBytesOfRecord(record)).then(send);
              return;
            }
            callback(error as Error);
            return;
          }
          unsettled++;
          delivery.then(settled, (error: unknown) => {
            if (failure === undefined) {
              failure = error as Error;
              stream.destroy(failure);
            }
            settled();
          });
          callback();
        };
        send();
      },
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

  #enqueue(record: StreamUserRecord): Promise<UserRecordResult> {
    if (this.#closed) throw new ProducerClosedError();
    const hashKey = this.#hashKey;
    const data = validateUserRecord(record, hashKey, 0);
    const bytes = outstandingBytesOf(record.partitionKey, data);
    const config = this.#config;
    if (this.#outstandingRecords >= config.maxOutstandingRecords) {
      throw new BufferFullError('maxOutstandingRecords', config.maxOutstandingRecords, this.#outstandingRecords);
    }
    if (this.#outstandingBytes + bytes > config.maxOutstandingBytes) {
      throw new BufferFullError('maxOutstandingBytes', config.maxOutstandingBytes, this.#outstandingBytes);
    }
    const promise = new Promise<UserRecordResult>(captureResolve);
    this.#admit(record, data, capturedResolve, bytes);
    return promise;
  }

  /** Puts a validated record into its stream's pipeline, counted as outstanding; `resolve` settles it. */
  #admit(record: StreamUserRecord, data: Uint8Array, resolve: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void,
    bytes = outstandingBytesOf(record.partitionKey, data)): void {
    const hashKey = this.#hashKey;
    if (this.#spool !== undefined) validateUserRecord(record, hashKey, 0);
    const pipeline = record.streamName === undefined ? this.#defaultPipeline : this.#pipelineFor(record.streamName);
    const now = monotonicMs();
    const generation = this.#oldestGeneration + this.#generationCounts.length - 1;
    const item = new PendingRecord(record, data, now, generation, resolve, bytes);
    this.#outstandingRecords++;
    this.#outstandingBytes += bytes;
    (this.#generationCounts[this.#generationCounts.length - 1] as number)++;
    this.#metrics?.recordReceived(pipeline.label);
    pipeline.add(item, hashKey, 0);
  }

  #pipelineFor(streamName: string): StreamPipeline {
    const existing = this.#pipelines.get(streamName);
    if (existing !== undefined) return existing;
    if (typeof streamName !== 'string' || streamName.length === 0) {
      throw new ValidationError('streamName', 'a record\'s streamName must be a non-empty string');
    }
    const pipeline = this.#createPipeline(streamName, { streamName });
    pipeline.start();
    return pipeline;
  }

  #createPipeline(label: string, stream: { streamName?: string; streamARN?: string }): StreamPipeline {
    const pipeline = new StreamPipeline({
      config: this.#config,
      client: this.#client,
      observer: this.#metrics,
      settled: (item) => this.#settled(item),
    }, stream);
    this.#pipelines.set(label, pipeline);
    return pipeline;
  }

  #settled(item: PendingRecord): void {
    this.#outstandingRecords--;
    this.#outstandingBytes -= item.outstandingBytes;
    const index = item.generation - this.#oldestGeneration;
    const left = (this.#generationCounts[index] as number) - 1;
    this.#generationCounts[index] = left;
    if (left === 0 && index === 0) this.#retireGenerations();
    if (this.#roomWaiters.length > 0) this.#wakeRoomWaiters();
  }

  /** Resolves once a record of `bytes` fits (for 0: once the producer is below both limits). */
  #roomFor(bytes: number): Promise<void> {
    if (this.#hasRoom(bytes)) return Promise.resolve();
    return new Promise((wake) => this.#roomWaiters.push({ bytes, wake }));
  }

  #wakeRoomWaiters(): void {
    const waiting: RoomWaiter[] = [];
    for (const waiter of this.#roomWaiters) {
      if (this.#closed || this.#hasRoom(waiter.bytes)) waiter.wake();
      else waiting.push(waiter);
    }
    this.#roomWaiters = waiting;
  }

  /** Drops the leading generations that have fully settled and wakes the flushes waiting on them. */
  #retireGenerations(): void {
    const counts = this.#generationCounts;
    let drop = 0;
    while (drop < counts.length - 1 && counts[drop] === 0) drop++;
    if (drop === 0) return;
    this.#generationCounts = counts.slice(drop);
    this.#oldestGeneration += drop;
    if (this.#flushWaiters.length === 0) return;
    const waiting: FlushWaiter[] = [];
    for (const waiter of this.#flushWaiters) {
      if (this.#settledThrough(waiter.generation)) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#flushWaiters = waiting;
  }

  #settledThrough(generation: number): boolean {
    const last = generation - this.#oldestGeneration;
    for (let i = 0; i <= last && i < this.#generationCounts.length; i++) if (this.#generationCounts[i] !== 0) return false;
    return true;
  }

  /** Room for a record of `bytes` as add() judges it; with 0, whether the producer is below both limits. */
  #hasRoom(bytes: number): boolean {
    if (this.#outstandingRecords >= this.#config.maxOutstandingRecords) return false;
    return bytes === 0
      ? this.#outstandingBytes < this.#config.maxOutstandingBytes
      : this.#outstandingBytes + bytes <= this.#config.maxOutstandingBytes;
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
    this.#wakeRoomWaiters();
    if (this.#ownsClient) this.#client.destroy();
  }
}
