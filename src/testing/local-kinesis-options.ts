import { FaultPlan, type Faults } from './faults.js';
import { resolveWriteLimits, type ResolvedWriteLimits, type WriteLimits } from './limits.js';
import { randomSeed } from './random.js';

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

/** {@link LocalKinesisOptions} checked, with their defaults. */
export interface ResolvedLocalKinesisOptions {
  readonly port: number;
  readonly host: string;
  readonly limits: ResolvedWriteLimits | false;
  readonly faults: FaultPlan;
  readonly seed: number;
  readonly streams: readonly StreamSpec[];
  readonly transitionMs: number;
  readonly shardLimit: number;
}

/** MaxRecordSizeInKiB of a stream that did not set it, and the range UpdateMaxRecordSize takes. */
export const DEFAULT_MAX_RECORD_SIZE_KIB = 1024;
export const MAX_MAX_RECORD_SIZE_KIB = 10_240;

const OPTION_NAMES = new Set(['port', 'host', 'limits', 'faults', 'seed', 'streams', 'transitionMs', 'shardLimit']);
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

/**
 * Checks every option and fills in the defaults.
 * @throws RangeError naming the option, its range and the value given.
 */
export function resolveLocalKinesisOptions(options: LocalKinesisOptions): ResolvedLocalKinesisOptions {
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
  const streams = options.streams ?? [];
  for (const stream of streams) {
    checkStreamSpec(stream.name, stream.shards);
    if (stream.maxRecordSizeInKiB !== undefined) checkMaxRecordSize(stream.maxRecordSizeInKiB);
  }
  return { port, host: options.host ?? '127.0.0.1', limits, faults, seed, streams, transitionMs, shardLimit };
}

/** @throws RangeError unless `name` is a valid stream name and `shards` an integer from 1. */
export function checkStreamSpec(name: unknown, shards: unknown): void {
  if (typeof name !== 'string' || !STREAM_NAME.test(name)) {
    throw new RangeError(`stream name must be 1 to 128 of a-z A-Z 0-9 _ . -, got ${JSON.stringify(name)}`);
  }
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1) {
    throw new RangeError(`shards of stream ${name} must be an integer from 1 up, got ${String(shards)}`);
  }
}

/** Whether `size` is a MaxRecordSizeInKiB the service takes: a whole number from 1,024 to 10,240. */
export function isMaxRecordSize(size: unknown): size is number {
  return typeof size === 'number' && Number.isInteger(size) && size >= DEFAULT_MAX_RECORD_SIZE_KIB && size <= MAX_MAX_RECORD_SIZE_KIB;
}

/** @throws RangeError unless `size` is a whole number from 1,024 to 10,240. */
export function checkMaxRecordSize(size: unknown): void {
  if (!isMaxRecordSize(size)) {
    throw new RangeError(
      `maxRecordSizeInKiB must be a whole number from ${DEFAULT_MAX_RECORD_SIZE_KIB} to ${MAX_MAX_RECORD_SIZE_KIB}, got ${String(size)}`,
    );
  }
}
