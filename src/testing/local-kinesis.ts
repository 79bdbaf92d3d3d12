import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream';
import { FaultPlan, type Faults, type RequestFault } from './faults.js';
import { startKinesalite, type RunningKinesalite } from './kinesalite.js';
import { LargeRecordStore } from './large-records.js';
import { resolveWriteLimits, type ResolvedWriteLimits, type WriteLimits } from './limits.js';
import { listShardsCursor, listShardsPage } from './list-shards.js';
import { putRecord, putRecords, type WriteAnswer, type WriteGate } from './put-records.js';
import { createRandom, randomSeed, type Random } from './random.js';
import { ShardLimiter } from './shard-limiter.js';
import { listShards, ShardMapCache } from './shard-maps.js';
import { StatsRecorder, type LocalKinesisStats } from './stats.js';
import { streamNameOf } from './stream-names.js';
import { Upstream } from './upstream.js';
import { AMZ_JSON, BodyTooLargeError, codecFor, operationOf, readBody, sendBody, sendError, type BodyCodec } from './wire.js';

/** A stream to create when the server starts. */
export interface StreamSpec {
  /** Stream name: 1 to 128 of `a-z A-Z 0-9 _ . -`. */
  readonly name: string;
  /** Number of shards, from 1. */
  readonly shards: number;
  /**
   * The most data plus partition key one record may hold, in KiB, as CreateStream or
   * UpdateMaxRecordSize set it: 1,024 to 10,240. @default 1024
   */
  readonly maxRecordSizeInKiB?: number;
}

/** Options of {@link LocalKinesis.start}. */
export interface LocalKinesisOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Address to listen on. Anything but loopback exposes an unauthenticated Kinesis. @default '127.0.0.1' */
  readonly host?: string;
  /** Per-shard write limits, or `false` to accept everything. @default the service's: 1,000 records/s and 1 MiB/s, 1 s burst */
  readonly limits?: WriteLimits | false;
  /** Faults to inject from the start; change them later with {@link LocalKinesis.setFaults}. @default none */
  readonly faults?: Faults;
  /** Seed of the generator that decides which requests and records fault. @default a random seed, see {@link LocalKinesis.seed} */
  readonly seed?: number;
  /** Streams to create before `start()` resolves; each is ACTIVE by then. @default none */
  readonly streams?: readonly StreamSpec[];
  /** Milliseconds streams stay CREATING, DELETING or UPDATING (after a split or merge). @default 0 */
  readonly transitionMs?: number;
  /** Most shards the server holds over all its streams. @default 10000 */
  readonly shardLimit?: number;
}

const OPTION_NAMES = new Set(['port', 'host', 'limits', 'faults', 'seed', 'streams', 'transitionMs', 'shardLimit']);
/**
 * Largest request body taken: a full PutRecords (10 MiB of data as base64, keys, syntax) fits,
 * and so does one somewhat over the limit, which gets the service's error instead of a cut connection.
 */
const MAX_BODY_BYTES = 20 * 1024 * 1024;
/** MaxRecordSizeInKiB of a stream that did not set it, and the range UpdateMaxRecordSize takes. */
const DEFAULT_MAX_RECORD_SIZE_KIB = 1024;
const MAX_MAX_RECORD_SIZE_KIB = 10_240;
/** Longer than clients keep idle connections, so that a reused connection never races its closing. */
const KEEP_ALIVE_MS = 120_000;
const CLOSE_WAIT_MS = 2_000;
const ACTIVE_WAIT_MS = 30_000;
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
/** Operations after which a stream's shards are different. */
const RESHAPING = new Set(['CreateStream', 'DeleteStream', 'SplitShard', 'MergeShards', 'UpdateShardCount']);
/** Requests other than writes are small; larger bodies are forwarded without a look inside. */
const SMALL_BODY_BYTES = 64 * 1024;
const UNFORWARDED_ANSWER_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding']);

interface Sleep {
  readonly timer: NodeJS.Timeout;
  readonly wake: () => void;
}

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
  readonly #server: http.Server;
  readonly #upstream: Upstream;
  readonly #shardMaps: ShardMapCache;
  readonly #random: Random;
  readonly #stats = new StatsRecorder();
  readonly #limiters = new Map<string, Map<string, ShardLimiter>>();
  readonly #sockets = new Set<Socket>();
  readonly #sleeps = new Set<Sleep>();
  readonly #gate: Omit<WriteGate, 'faults'>;
  readonly #largeRecords = new LargeRecordStore();
  /** MaxRecordSizeInKiB of the streams that changed it from the default. */
  readonly #maxRecordSizes = new Map<string, number>();
  #faults: FaultPlan;
  #down = false;
  #outageChange: Promise<void> = Promise.resolve();
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
    this.#server = server;
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
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.#handle(request, response).catch((error: unknown) => this.#fail(response, error));
    });
  }

  /**
   * Starts kinesalite and the server in front of it, and creates `options.streams`. Throws a
   * RangeError naming the option when an option is out of range.
   */
  static async start(options: LocalKinesisOptions = {}): Promise<LocalKinesis> {
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.has(key)) {
        throw new RangeError(`LocalKinesis option ${key} is unknown; expected one of ${[...OPTION_NAMES].join(', ')}`);
      }
    }
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new RangeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
    }
    const seed = options.seed ?? randomSeed();
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${String(seed)}`);
    const transitionMs = options.transitionMs ?? 0;
    if (!Number.isFinite(transitionMs) || transitionMs < 0) {
      throw new RangeError(`transitionMs must be milliseconds from 0 up, got ${String(transitionMs)}`);
    }
    const shardLimit = options.shardLimit ?? 10_000;
    if (!Number.isInteger(shardLimit) || shardLimit < 1) {
      throw new RangeError(`shardLimit must be an integer from 1 up, got ${String(shardLimit)}`);
    }
    const limits = options.limits === false ? false : resolveWriteLimits(options.limits ?? {});
    const faults = new FaultPlan(options.faults ?? {});
    for (const stream of options.streams ?? []) {
      checkStreamSpec(stream.name, stream.shards);
      if (stream.maxRecordSizeInKiB !== undefined) checkMaxRecordSize(stream.maxRecordSizeInKiB);
    }

    const kinesalite = await startKinesalite({ transitionMs, shardLimit });
    const server = http.createServer({ keepAliveTimeout: KEEP_ALIVE_MS });
    try {
      await listen(server, port, options.host ?? '127.0.0.1');
    } catch (error) {
      await kinesalite.close();
      throw error;
    }
    const local = new LocalKinesis(kinesalite, server, server.address() as AddressInfo, limits, faults, seed);
    try {
      for (const stream of options.streams ?? []) {
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
  async createStream(name: string, shards: number): Promise<void> {
    checkStreamSpec(name, shards);
    const created = await this.#upstream.call('CreateStream', { StreamName: name, ShardCount: shards });
    if (created.status !== 200) throw upstreamError('CreateStream', name, created.body);
    this.#forgetShards('CreateStream', name);
    const deadline = Date.now() + ACTIVE_WAIT_MS;
    for (;;) {
      const described = await this.#upstream.call('DescribeStreamSummary', { StreamName: name });
      if (described.status !== 200) throw upstreamError('DescribeStreamSummary', name, described.body);
      const { StreamDescriptionSummary } = JSON.parse(described.body.toString('utf8')) as {
        StreamDescriptionSummary: { StreamStatus: string };
      };
      if (StreamDescriptionSummary.StreamStatus === 'ACTIVE') return;
      if (Date.now() > deadline) {
        throw new Error(`stream ${name} is still ${StreamDescriptionSummary.StreamStatus} after ${ACTIVE_WAIT_MS} ms`);
      }
      await this.#sleep(10);
    }
  }

  /** The stream's MaxRecordSizeInKiB: 1,024 unless CreateStream or UpdateMaxRecordSize raised it. */
  maxRecordSizeInKiB(streamName: string): number {
    return this.#maxRecordSizes.get(streamName) ?? DEFAULT_MAX_RECORD_SIZE_KIB;
  }

  /**
   * Sets a stream's MaxRecordSizeInKiB, as UpdateMaxRecordSize does, at once. Throws a RangeError
   * unless it is a whole number from 1,024 to 10,240.
   */
  setMaxRecordSize(streamName: string, maxRecordSizeInKiB: number): void {
    checkMaxRecordSize(maxRecordSizeInKiB);
    if (maxRecordSizeInKiB === DEFAULT_MAX_RECORD_SIZE_KIB) this.#maxRecordSizes.delete(streamName);
    else this.#maxRecordSizes.set(streamName, maxRecordSizeInKiB);
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
    return this.#down;
  }

  /**
   * Starts (`true`) or ends (`false`) an outage. Starting one closes the listening socket, so new
   * connections are refused, and drops every open connection, with any request in it. Ending it
   * listens again on the same port. Resolves once the change has happened.
   */
  setOutage(down: boolean): Promise<void> {
    const change = this.#outageChange.then(() => this.#applyOutage(down));
    this.#outageChange = change.catch(() => undefined);
    return change;
  }

  /** An outage of `ms` milliseconds from now; resolves when connections are accepted again. */
  async outage(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`outage(ms) needs milliseconds from 0 up, got ${String(ms)}`);
    await this.setOutage(true);
    await this.#sleep(ms);
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
    await this.#outageChange;
    const stopped = this.#down ? Promise.resolve() : new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    for (const sleep of this.#sleeps) {
      clearTimeout(sleep.timer);
      sleep.wake();
    }
    this.#sleeps.clear();
    await stopped;
    await this.#upstream.idle(CLOSE_WAIT_MS);
    this.#upstream.close();
    this.#largeRecords.clear();
    await this.#kinesalite.close();
  }

  async #applyOutage(down: boolean): Promise<void> {
    if (this.#closing !== undefined) throw new Error('LocalKinesis is closed');
    if (down === this.#down) return;
    if (down) {
      this.#down = true;
      this.#stats.live.faults.outages++;
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const socket of this.#sockets) socket.destroy();
      await closed;
    } else {
      await listen(this.#server, this.port, this.host);
      this.#down = false;
    }
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
        await this.#sleep(delay);
        if (this.#closing !== undefined || response.destroyed) return;
      }
      const fault = faults.drawRequestFault(this.#random);
      if (fault !== undefined) {
        this.#inject(fault, request, response, codec);
        return;
      }
    }
    switch (operation) {
      case 'PutRecords':
      case 'PutRecord':
        return this.#write(operation, request, response, body, codec, faults);
      case 'ListShards':
        return this.#listShards(request, response, body, codec);
      case 'UpdateMaxRecordSize':
        return this.#updateMaxRecordSize(response, body, codec);
      case 'DescribeStreamSummary':
        return this.#describeStreamSummary(request, response, body, codec);
      case 'CreateStream':
        return this.#createStreamRequest(request, response, body, codec);
      case 'GetRecords':
        if (this.#largeRecords.holdsAny) return this.#getRecords(request, response, body, codec);
        return this.#passThrough(operation, request, response, body, codec);
      default:
        return this.#passThrough(operation, request, response, body, codec);
    }
  }

  #inject(fault: RequestFault, request: IncomingMessage, response: ServerResponse, codec: BodyCodec): void {
    this.#stats.live.faults[fault]++;
    switch (fault) {
      case 'connectionReset':
        request.socket.resetAndDestroy();
        return;
      case 'hang':
        return;
      case 'internalFailure':
        sendError(response, 500, codec, 'InternalFailure', 'Internal service failure.');
        return;
      case 'serviceUnavailable':
        sendError(response, 503, codec, 'ServiceUnavailable', 'Service is unavailable, try again later.');
        return;
    }
  }

  async #write(
    operation: 'PutRecords' | 'PutRecord',
    request: IncomingMessage,
    response: ServerResponse,
    body: Buffer,
    codec: BodyCodec,
    faults: FaultPlan | undefined,
  ): Promise<void> {
    const input = decode(codec, body);
    if (input === undefined) return this.#passThrough(operation, request, response, body, codec);
    const renamed = nameStreamByArn(input);
    const gate: WriteGate = { ...this.#gate, faults };
    const answer =
      operation === 'PutRecords'
        ? await putRecords(gate, input, codec.contentType === AMZ_JSON && !renamed ? body : undefined)
        : await putRecord(gate, input);
    if (answer === undefined) {
      return this.#passThrough(operation, request, response, renamed ? codec.encode(input) : body, codec);
    }
    sendAnswer(response, codec, answer);
  }

  async #listShards(request: IncomingMessage, response: ServerResponse, body: Buffer, codec: BodyCodec): Promise<void> {
    const input = decode(codec, body);
    if (input === undefined) return this.#passThrough('ListShards', request, response, body, codec);
    nameStreamByArn(input);
    const cursor = listShardsCursor(input);
    if (typeof cursor === 'string') {
      sendError(response, 400, codec, 'InvalidArgumentException', cursor);
      return;
    }
    const listing = await listShards(this.#upstream, cursor.streamName);
    if (!listing.found) {
      sendAnswer(response, codec, { status: listing.status, body: JSON.parse(listing.body.toString('utf8')) });
      return;
    }
    const page = listShardsPage(listing.shards, cursor, input.MaxResults);
    if (page.ok) sendBody(response, 200, codec, page.body);
    else sendError(response, 400, codec, 'InvalidArgumentException', page.message);
  }

  /** UpdateMaxRecordSize, which kinesalite does not know: the service's checks and errors, applied at once. */
  async #updateMaxRecordSize(response: ServerResponse, body: Buffer, codec: BodyCodec): Promise<void> {
    const input = decode(codec, body) ?? {};
    const size = input['MaxRecordSizeInKiB'];
    if (typeof size !== 'number' || !Number.isInteger(size) || size < DEFAULT_MAX_RECORD_SIZE_KIB || size > MAX_MAX_RECORD_SIZE_KIB) {
      sendError(
        response,
        400,
        codec,
        'ValidationException',
        `1 validation error detected: Value '${String(size)}' at 'maxRecordSizeInKiB' failed to satisfy constraint: ` +
          `Member must have value between ${DEFAULT_MAX_RECORD_SIZE_KIB} and ${MAX_MAX_RECORD_SIZE_KIB}`,
      );
      return;
    }
    const streamName = streamNameOf(input);
    if (streamName === undefined) {
      sendError(response, 400, codec, 'InvalidArgumentException', 'StreamARN is required.');
      return;
    }
    const described = await this.#upstream.call('DescribeStreamSummary', { StreamName: streamName });
    if (described.status !== 200) {
      sendAnswer(response, codec, { status: described.status, body: JSON.parse(described.body.toString('utf8')) });
      return;
    }
    this.setMaxRecordSize(streamName, size);
    sendBody(response, 200, codec, {});
  }

  /** kinesalite's summary, with the fields it predates: MaxRecordSizeInKiB and the stream mode. */
  async #describeStreamSummary(request: IncomingMessage, response: ServerResponse, body: Buffer, codec: BodyCodec): Promise<void> {
    const input = decode(codec, body);
    if (input === undefined) return this.#passThrough('DescribeStreamSummary', request, response, body, codec);
    nameStreamByArn(input);
    const answer = await this.#upstream.call('DescribeStreamSummary', input);
    const described = JSON.parse(answer.body.toString('utf8')) as {
      StreamDescriptionSummary?: Record<string, unknown>;
    };
    const summary = described.StreamDescriptionSummary;
    if (answer.status === 200 && summary !== undefined && typeof summary['StreamName'] === 'string') {
      summary['MaxRecordSizeInKiB'] ??= this.maxRecordSizeInKiB(summary['StreamName']);
      summary['StreamModeDetails'] ??= { StreamMode: 'PROVISIONED' };
    }
    sendAnswer(response, codec, { status: answer.status, body: described });
  }

  /** CreateStream, with MaxRecordSizeInKiB taken here since kinesalite does not know it. */
  async #createStreamRequest(request: IncomingMessage, response: ServerResponse, body: Buffer, codec: BodyCodec): Promise<void> {
    const input = decode(codec, body);
    const size = input?.['MaxRecordSizeInKiB'];
    if (input === undefined || size === undefined) return this.#passThrough('CreateStream', request, response, body, codec);
    if (typeof size !== 'number' || !Number.isInteger(size) || size < DEFAULT_MAX_RECORD_SIZE_KIB || size > MAX_MAX_RECORD_SIZE_KIB) {
      sendError(
        response,
        400,
        codec,
        'ValidationException',
        `1 validation error detected: Value '${JSON.stringify(size)}' at 'maxRecordSizeInKiB' failed to satisfy constraint: ` +
          `Member must have value between ${DEFAULT_MAX_RECORD_SIZE_KIB} and ${MAX_MAX_RECORD_SIZE_KIB}`,
      );
      return;
    }
    delete input['MaxRecordSizeInKiB'];
    const streamName = streamNameOf(input);
    const answer = await this.#upstream.call('CreateStream', input);
    if (streamName !== undefined) {
      this.#forgetShards('CreateStream', streamName);
      if (answer.status === 200) this.setMaxRecordSize(streamName, size);
    }
    sendAnswer(response, codec, { status: answer.status, body: answer.body.length === 0 ? {} : JSON.parse(answer.body.toString('utf8')) });
  }

  /** GetRecords once records over kinesalite's limit are stored: their placeholders get their data back. */
  async #getRecords(request: IncomingMessage, response: ServerResponse, body: Buffer, codec: BodyCodec): Promise<void> {
    const input = decode(codec, body);
    if (input === undefined) return this.#passThrough('GetRecords', request, response, body, codec);
    const answer = await this.#upstream.call('GetRecords', input);
    const records = JSON.parse(answer.body.toString('utf8')) as { Records?: Array<{ Data?: unknown }> };
    if (answer.status === 200) {
      this.#largeRecords.restore(records);
      if (codec.contentType !== AMZ_JSON) {
        for (const record of records.Records ?? []) {
          if (typeof record.Data === 'string') record.Data = Buffer.from(record.Data, 'base64');
        }
      }
    }
    sendAnswer(response, codec, { status: answer.status, body: records });
  }

  async #passThrough(operation: string, request: IncomingMessage, response: ServerResponse, body: Buffer, codec: BodyCodec): Promise<void> {
    let forwarded = body;
    let streamName: string | undefined;
    const mayNameByArn = body.length < SMALL_BODY_BYTES && body.includes('StreamARN');
    if (RESHAPING.has(operation) || mayNameByArn) {
      const input = decode(codec, body);
      if (input !== undefined) {
        streamName = streamNameOf(input);
        if (nameStreamByArn(input)) forwarded = codec.encode(input);
      }
    }
    const answer = await this.#upstream.forward(request.method ?? 'POST', request.url ?? '/', request.headers, forwarded);
    if (streamName !== undefined && RESHAPING.has(operation)) this.#forgetShards(operation, streamName);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !UNFORWARDED_ANSWER_HEADERS.has(name)) headers[name] = value;
    }
    response.writeHead(answer.statusCode ?? 500, headers);
    pipeline(answer, response, () => undefined);
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
      this.#maxRecordSizes.delete(streamName);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleep: Sleep = {
        timer: setTimeout(() => {
          this.#sleeps.delete(sleep);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.#sleeps.add(sleep);
    });
  }

  #fail(response: ServerResponse, error: unknown): void {
    if (response.headersSent || response.destroyed) {
      response.destroy();
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    response.writeHead(500, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'InternalFailure' });
    response.end(JSON.stringify({ __type: 'InternalFailure', message: `LocalKinesis: ${message}` }));
  }
}

/** Where a client on this machine reaches the server. */
function endpointHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

function checkStreamSpec(name: unknown, shards: unknown): void {
  if (typeof name !== 'string' || !STREAM_NAME.test(name)) {
    throw new RangeError(`stream name must be 1 to 128 of a-z A-Z 0-9 _ . -, got ${JSON.stringify(name)}`);
  }
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1) {
    throw new RangeError(`shards of stream ${name} must be an integer from 1 up, got ${String(shards)}`);
  }
}

function checkMaxRecordSize(size: unknown): void {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < DEFAULT_MAX_RECORD_SIZE_KIB || size > MAX_MAX_RECORD_SIZE_KIB) {
    throw new RangeError(
      `maxRecordSizeInKiB must be a whole number from ${DEFAULT_MAX_RECORD_SIZE_KIB} to ${MAX_MAX_RECORD_SIZE_KIB}, got ${String(size)}`,
    );
  }
}

/** The request's fields, or undefined if it does not decode to an object. */
function decode(codec: BodyCodec, body: Buffer): Record<string, unknown> | undefined {
  let input: unknown;
  try {
    input = codec.decode(body);
  } catch {
    return undefined;
  }
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined;
}

/**
 * Replaces a StreamARN with the StreamName it names, since kinesalite knows streams only by name.
 * Returns true if it changed the fields.
 */
function nameStreamByArn(fields: Record<string, unknown>): boolean {
  if (typeof fields['StreamARN'] !== 'string' || fields['StreamName'] !== undefined) return false;
  const name = streamNameOf(fields);
  delete fields['StreamARN'];
  if (name !== undefined) fields['StreamName'] = name;
  return true;
}

function sendAnswer(response: ServerResponse, codec: BodyCodec, answer: WriteAnswer): void {
  const type = (answer.body as { __type?: unknown }).__type;
  if (answer.status !== 200 && typeof type === 'string') {
    const message = (answer.body as { message?: unknown }).message;
    sendError(response, answer.status, codec, type, typeof message === 'string' ? message : '');
  } else {
    sendBody(response, answer.status, codec, answer.body);
  }
}

function upstreamError(operation: string, streamName: string, body: Buffer): Error {
  let detail = body.toString('utf8');
  try {
    const { __type, message } = JSON.parse(detail) as { __type?: string; message?: string };
    detail = `${__type ?? 'error'}: ${message ?? ''}`;
  } catch {
    // not JSON: keep the raw text
  }
  return new Error(`${operation} of stream ${streamName} failed: ${detail}`);
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
