import type { Writable } from 'node:stream';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { Registry } from 'prom-client';
import { type ProducerConfig, resolveConfig } from './config.js';
import { ProducerMetrics } from './metrics.js';
import { OutstandingRecords } from './outstanding-records.js';
import { createKinesisClient } from './pipeline/kinesis-client.js';
import { RecordAdmission, type StreamUserRecord } from './record-admission.js';
import { recordWritable, spooledRecordWritable } from './record-writable.js';
import { ProducerClosedError, type RecordCallback, type UserRecordResult, ValidationError } from './records.js';
import { openSpoolFeeder, type SpoolFeeder } from './spool/open-spool-feeder.js';
import type { SpoolStats } from './spool/spool.js';
import { type StreamShardRateReport, StreamPipelines } from './stream-pipelines.js';

export type { StreamUserRecord } from './record-admission.js';

/**
 * Buffers, aggregates and sends user records to a Kinesis data stream, as the KPL does.
 * `add()` returns a promise that says where the record landed, or why it could not be delivered.
 */
export class KinesisProducer {
  /** The prom-client registry holding this producer's metrics. */
  readonly metrics: Registry;
  readonly #client: KinesisClient;
  readonly #ownsClient: boolean;
  readonly #pipelines: StreamPipelines;
  readonly #admission: RecordAdmission;
  readonly #outstanding: OutstandingRecords;
  #closing: Promise<void> | undefined;
  /** With a spool: appends what add() and enqueue() take and feeds the pipeline from disk. */
  readonly #spool: SpoolFeeder | undefined;

  /** @throws ValidationError when an option is unknown, of the wrong type or out of range. */
  constructor(config: ProducerConfig) {
    const resolved = resolveConfig(config);
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
    const metrics =
      resolved.metricsLevel === 'none'
        ? undefined
        : new ProducerMetrics({
            registry: this.metrics,
            level: resolved.metricsLevel,
            granularity: resolved.metricsGranularity,
            pending: () => this.#outstanding.size,
          });
    const outstanding = this.#outstanding;
    this.#pipelines = new StreamPipelines(resolved, this.#client, metrics, (item) =>
      outstanding.settled(item.outstandingBytes, item.generation),
    );
    this.#admission = new RecordAdmission(outstanding, this.#pipelines, metrics);
    this.#spool =
      resolved.spool === undefined
        ? undefined
        : openSpoolFeeder(resolved, this.metrics, {
            windowRoom: () => ({
              records: resolved.maxOutstandingRecords - this.#outstanding.size,
              bytes: resolved.maxOutstandingBytes - this.#outstanding.bytes,
            }),
            submit: (record, data, settle) => this.#admission.admit(record, data, settle),
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
    if (this.#admission.closed) return Promise.reject(new ProducerClosedError());
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
    if (this.#spool !== undefined && !this.#admission.closed) return this.#spool.add(record);
    try {
      return this.#admission.add(record, undefined) as Promise<UserRecordResult>;
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
    if (this.#spool !== undefined && !this.#admission.closed) {
      void this.#spool.add(record).then(
        () => callback(undefined, record),
        (error: unknown) => callback(error as Error, record),
      );
      return;
    }
    void this.#admission.add(record, callback);
  }

  /**
   * Each open shard's rate now, per stream: what the per-shard limiter lets through, in records/s
   * and bytes/s, and as a share of `rateLimit` %. With `adaptiveRateLimit` it is the rate each
   * shard adapted to; `kpl bench` prints it.
   */
  shardRates(): StreamShardRateReport[] {
    return this.#pipelines.shardRates();
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
    this.#pipelines.flush();
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
    if (spool !== undefined)
      return spooledRecordWritable(
        (record) => spool.enqueue(record),
        () => this.flush(),
      );
    return recordWritable({
      add: (record) => this.#admission.add(record, undefined) as Promise<UserRecordResult>,
      onRoom: (bytes) => this.#outstanding.onRoom(bytes),
      flush: () => this.flush(),
    });
  }

  async #shutDown(): Promise<void> {
    this.#admission.close();
    if (this.#spool !== undefined) {
      // Whatever the window holds stays in the spool: nothing here waits for the link.
      this.#spool.stop();
      this.#pipelines.close();
      await this.#spool.spool.close();
    } else {
      await this.flush();
      this.#pipelines.close();
    }
    this.#outstanding.close();
    if (this.#ownsClient) this.#client.destroy();
  }
}
