import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { answerWithFault } from './fault-answers.js';
import { FaultPlan, type Faults } from './faults.js';
import { startKinesalite, type RunningKinesalite } from './kinesalite.js';
import { LargeRecordStore } from './large-records.js';
import type { ResolvedWriteLimits } from './limits.js';
import { type LocalKinesisOptions, resolveLocalKinesisOptions } from './local-kinesis-options.js';
import { OutageSwitch } from './outage-switch.js';
import { putRecord, putRecords, type WriteGate } from './put-records.js';
import { describeStreamSummaryRequest, RecordSizes, updateMaxRecordSizeRequest } from './record-size-requests.js';
import { decodeFields, nameStreamByArn } from './request-fields.js';
import { endpointHost, listen, sendAnswer, sendInternalFailure, Sleeps } from './server-support.js';
import { createRandom, type Random } from './random.js';
import { ShardLimiter } from './shard-limiter.js';
import { ShardMapCache } from './shard-maps.js';
import { StatsRecorder, type LocalKinesisStats } from './stats.js';
import {
  createStreamAndWait,
  createStreamRequest,
  getRecordsRequest,
  listShardsRequest,
  type LocalRequest,
  passThrough,
  type RequestHost,
} from './stream-requests.js';
import { Upstream } from './upstream.js';
import { AMZ_JSON, BodyTooLargeError, codecFor, operationOf, readBody, sendError } from './wire.js';

/**
 * Largest request body taken: a full PutRecords (10 MiB of data as base64, keys, syntax) fits,
 * and so does one somewhat over the limit, which gets the service's error instead of a cut connection.
 */
const MAX_BODY_BYTES = 20 * 1024 * 1024;
/** Longer than clients keep idle connections, so that a reused connection never races its closing. */
const KEEP_ALIVE_MS = 120_000;
const CLOSE_WAIT_MS = 2_000;

/**
 * A local Kinesis for tests and benchmarks that, unlike any other, enforces the service's
 * per-shard write limits and injects faults on demand.
 *
 * kinesalite, running in this process and loaded on first use, stores the records and answers
 * reads. In front of it an HTTP server proxies every request, and answers the writes itself:
 * PutRecords and PutRecord records are mapped to shards (MD5 of the partition key, or the
 * ExplicitHashKey, against the stream's hash key ranges), each shard's records/s and bytes/s token
 * buckets are charged, and records over the limit get a per-record
 * `ProvisionedThroughputExceededException` while the rest are stored. It also pages ListShards and
 * honours ShardFilter and StreamARN, which kinesalite does not.
 *
 * It speaks AWS JSON 1.1 (the AWS SDK for JavaScript) and CBOR (the AWS SDK for Java), over
 * plain HTTP/1.1.
 *
 * @example
 * ```ts
 * const kinesis = await LocalKinesis.start({ streams: [{ name: 'events', shards: 2 }] });
 * const producer = new KinesisProducer({ streamName: 'events', endpoint: kinesis.endpoint, ... });
 * kinesis.setFaults({ recordFailureRate: 0.02, internalFailureRate: 0.04 });
 * await kinesis.outage(5_000);
 * console.log(kinesis.stats().throttledRecords);
 * await kinesis.close();
 * ```
 */
export class LocalKinesis {
  /** `http://HOST:PORT`, for the SDK's `endpoint` or the producer's; loopback when listening on every address. */
  readonly endpoint: string;
  /** The port it listens on, the same after an outage. */
  readonly port: number;
  /** The address it listens on. */
  readonly host: string;
  /** The seed of its fault generator: pass it back as `seed` to replay a run. */
  readonly seed: number;
  /** The limits it enforces, or false. */
  readonly limits: ResolvedWriteLimits | false;

  readonly #kinesalite: RunningKinesalite;
  readonly #upstream: Upstream;
  readonly #shardMaps: ShardMapCache;
  readonly #random: Random;
  readonly #stats = new StatsRecorder();
  readonly #limiters = new Map<string, Map<string, ShardLimiter>>();
  readonly #sleeps = new Sleeps();
  readonly #outages: OutageSwitch;
  readonly #gate: Omit<WriteGate, 'faults'>;
  readonly #largeRecords = new LargeRecordStore();
  readonly #recordSizes = new RecordSizes();
  readonly #requests: RequestHost;
  #faults: FaultPlan;
  #closing: Promise<void> | undefined;

  private constructor(
    kinesalite: RunningKinesalite,
    server: http.Server,
    address: AddressInfo,
    limits: ResolvedWriteLimits | false,
    faults: FaultPlan,
    seed: number,
  ) {
    this.#kinesalite = kinesalite;
    this.port = address.port;
    this.host = address.address;
    this.endpoint = `http://${endpointHost(address)}:${address.port}`;
    this.limits = limits;
    this.#faults = faults;
    this.seed = seed;
    this.#random = createRandom(seed);
    this.#upstream = new Upstream(kinesalite.port);
    this.#shardMaps = new ShardMapCache(this.#upstream);
    this.#gate = {
      upstream: this.#upstream,
      stats: this.#stats,
      random: this.#random,
      largeRecords: this.#largeRecords,
      maxRecordBytes: (streamName) => this.maxRecordSizeInKiB(streamName) * 1024,
      shardMap: (streamName) => this.#shardMaps.get(streamName),
      invalidateShardMap: (streamName) => this.#shardMaps.invalidate(streamName),
      limiter: (streamName, shardId) => this.#limiter(streamName, shardId),
      now: () => performance.now(),
    };
    this.#requests = {
      upstream: this.#upstream,
      recordSizes: this.#recordSizes,
      largeRecords: this.#largeRecords,
      forgetShards: (operation, streamName) => this.#forgetShards(operation, streamName),
    };
    this.#outages = new OutageSwitch(server, this.port, this.host, () => this.#stats.live.faults.outages++);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.#handle(request, response).catch((error: unknown) => sendInternalFailure(response, error));
    });
  }

  /**
   * Starts kinesalite and the server in front of it, and creates `options.streams`. Throws a
   * RangeError naming the option when an option is out of range.
   */
  static async start(options: LocalKinesisOptions = {}): Promise<LocalKinesis> {
    const resolved = resolveLocalKinesisOptions(options);
    const kinesalite = await startKinesalite({ transitionMs: resolved.transitionMs, shardLimit: resolved.shardLimit });
    const server = http.createServer({ keepAliveTimeout: KEEP_ALIVE_MS });
    try {
      await listen(server, resolved.port, resolved.host);
    } catch (error) {
      await kinesalite.close();
      throw error;
    }
    const local = new LocalKinesis(kinesalite, server, server.address() as AddressInfo, resolved.limits, resolved.faults, resolved.seed);
    try {
      for (const stream of resolved.streams) {
        await local.createStream(stream.name, stream.shards);
        if (stream.maxRecordSizeInKiB !== undefined) local.setMaxRecordSize(stream.name, stream.maxRecordSizeInKiB);
      }
    } catch (error) {
      await local.close();
      throw error;
    }
    return local;
  }

  /** Creates a stream and resolves once it is ACTIVE. Throws if it exists or the shard limit is reached. */
  createStream(name: string, shards: number): Promise<void> {
    return createStreamAndWait(this.#requests, name, shards, (ms) => this.#sleeps.sleep(ms));
  }

  /** The stream's MaxRecordSizeInKiB: 1,024 unless CreateStream or UpdateMaxRecordSize raised it. */
  maxRecordSizeInKiB(streamName: string): number {
    return this.#recordSizes.get(streamName);
  }

  /**
   * Sets a stream's MaxRecordSizeInKiB, as UpdateMaxRecordSize does, at once. Throws a RangeError
   * unless it is a whole number from 1,024 to 10,240.
   */
  setMaxRecordSize(streamName: string, maxRecordSizeInKiB: number): void {
    this.#recordSizes.set(streamName, maxRecordSizeInKiB);
  }

  /**
   * Replaces the faults: what `faults` omits is turned off. Applies to requests that arrive from
   * now on. Throws a RangeError naming the field when a value is out of range.
   */
  setFaults(faults: Faults): void {
    this.#faults = new FaultPlan(faults);
  }

  /** True while an outage refuses connections. */
  get down(): boolean {
    return this.#outages.down;
  }

  /**
   * Starts (`true`) or ends (`false`) an outage. Starting one closes the listening socket, so new
   * connections are refused, and drops every open connection, with any request in it. Ending it
   * listens again on the same port. Resolves once the change has happened.
   */
  setOutage(down: boolean): Promise<void> {
    return this.#outages.set(down);
  }

  /** An outage of `ms` milliseconds from now; resolves when connections are accepted again. */
  async outage(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`outage(ms) needs milliseconds from 0 up, got ${String(ms)}`);
    await this.setOutage(true);
    await this.#sleeps.sleep(ms);
    if (this.#closing === undefined) await this.setOutage(false);
  }

  /** What it accepted, throttled and faulted since it started or since {@link resetStats}. */
  stats(): LocalKinesisStats {
    return this.#stats.snapshot();
  }

  /** Sets every count of {@link stats} back to zero. */
  resetStats(): void {
    this.#stats.reset();
  }

  /**
   * Stops listening, drops every connection (hanging requests too), ends pending delays, and
   * closes kinesalite. Stored records are gone afterwards. Safe to call more than once.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const stopped = this.#outages.close();
    this.#sleeps.wakeAll();
    await stopped;
    await this.#upstream.idle(CLOSE_WAIT_MS);
    this.#upstream.close();
    this.#largeRecords.clear();
    await this.#kinesalite.close();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.#stats.live.requests++;
    const operation = operationOf(request.headers);
    const codec = codecFor(request.headers);
    let body: Buffer;
    try {
      body = await readBody(request, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        response.shouldKeepAlive = false;
        sendError(response, 413, codec, 'SerializationException', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
      }
      return;
    }
    const faults = this.#faults.appliesTo(operation) ? this.#faults : undefined;
    if (faults !== undefined) {
      const delay = faults.drawLatency(this.#random);
      if (delay > 0) {
        this.#stats.live.faults.delayed++;
        await this.#sleeps.sleep(delay);
        if (this.#closing !== undefined || response.destroyed) return;
      }
      const fault = faults.drawRequestFault(this.#random);
      if (fault !== undefined) {
        answerWithFault(fault, request, response, codec, this.#stats);
        return;
      }
    }
    const host = this.#requests;
    const call: LocalRequest = { request, response, body, codec };
    switch (operation) {
      case 'PutRecords':
      case 'PutRecord':
        return this.#write(operation, call, faults);
      case 'ListShards':
        return listShardsRequest(host, call);
      case 'UpdateMaxRecordSize':
        return updateMaxRecordSizeRequest(host, call);
      case 'DescribeStreamSummary':
        return describeStreamSummaryRequest(host, call);
      case 'CreateStream':
        return createStreamRequest(host, call);
      case 'GetRecords':
        if (this.#largeRecords.holdsAny) return getRecordsRequest(host, call);
        return passThrough(host, operation, call);
      default:
        return passThrough(host, operation, call);
    }
  }

  async #write(operation: 'PutRecords' | 'PutRecord', call: LocalRequest, faults: FaultPlan | undefined): Promise<void> {
    const { response, body, codec } = call;
    const input = decodeFields(codec, body);
    if (input === undefined) return passThrough(this.#requests, operation, call);
    const renamed = nameStreamByArn(input);
    const gate: WriteGate = { ...this.#gate, faults };
    const answer =
      operation === 'PutRecords'
        ? await putRecords(gate, input, codec.contentType === AMZ_JSON && !renamed ? body : undefined)
        : await putRecord(gate, input);
    if (answer === undefined) {
      return passThrough(this.#requests, operation, call, renamed ? codec.encode(input) : body);
    }
    sendAnswer(response, codec, answer);
  }

  #limiter(streamName: string, shardId: string): ShardLimiter | undefined {
    if (this.limits === false) return undefined;
    let shards = this.#limiters.get(streamName);
    if (shards === undefined) {
      shards = new Map();
      this.#limiters.set(streamName, shards);
    }
    let limiter = shards.get(shardId);
    if (limiter === undefined) {
      limiter = new ShardLimiter(this.limits, performance.now());
      shards.set(shardId, limiter);
    }
    return limiter;
  }

  /**
   * Drops the stream's cached shard map after `operation` reshaped it. A new or deleted stream
   * also loses its shards' spent allowances and its MaxRecordSizeInKiB; after a split or merge the surviving shards keep theirs.
   */
  #forgetShards(operation: string, streamName: string): void {
    this.#shardMaps.invalidate(streamName);
    if (operation === 'CreateStream' || operation === 'DeleteStream') {
      this.#limiters.delete(streamName);
      this.#recordSizes.forget(streamName);
    }
  }
}
