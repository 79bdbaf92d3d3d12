/**
 * The options of the per-shard rate limiter (limiter.ts), their defaults, and their validation in
 * one place: the limiter itself only reads the resolved numbers.
 */

/** Options of a ShardRateLimiter. */
export interface ShardRateLimiterOptions {
  /** Records a shard may take per second at most (already scaled by rateLimit %). */
  recordsPerSecond: number;
  /** Bytes (data plus partition key) a shard may take per second at most (already scaled by rateLimit %). */
  bytesPerSecond: number;
  /** Seconds of unused allowance a bucket saves up for a burst. @default 1 */
  burstSeconds?: number | undefined;
  /** Adapt each shard's rate to throttling; absent, every shard keeps the rates above. */
  adaptive?: AdaptiveRateOptions | undefined;
}

/**
 * How each shard's rate adapts, as fractions of the rates in {@link ShardRateLimiterOptions}
 * (the ceiling). Pass `initialRatio: 100 / rateLimit` to start at the service's limits.
 */
export interface AdaptiveRateOptions {
  /** Share of the ceiling a shard starts at, from 0 to 1: the service's limits, 100 / rateLimit. */
  initialRatio: number;
  /**
   * Factor a decrease multiplies the rate by, at most: where the shard throttled a larger share of
   * the bytes reported since the last decrease, the rate falls by that share, by 50 % at most.
   * @default 0.85
   */
  decreaseFactor?: number | undefined;
  /**
   * Share of the throttled bytes, among those reported since the last decrease, below which a
   * throttle does not lower the rate: a lone writer's occasional throttle from timing jitter.
   * From 0 (every throttle counts) to below 1. @default 0.02
   */
  throttledShareThreshold?: number | undefined;
  /**
   * Share of the ceiling regained per second in which the shard held records back (wanted to send
   * more than its rate), outside decrease intervals. @default 5 % of the service's limit, 0.05 × initialRatio
   */
  increasePerSecond?: number | undefined;
  /** Lowest share of the ceiling a shard falls to. @default 2 % of the service's limit, 0.02 × initialRatio */
  minRatio?: number | undefined;
  /**
   * Milliseconds after a decrease in which further throttles of that shard are taken as the same
   * episode (answers to puts made before the decrease), and the rate does not climb either.
   * @default 500
   */
  decreaseIntervalMs?: number | undefined;
}

/** The limiter's options, validated, with every default filled in; rates per millisecond. */
export interface ResolvedLimiterOptions {
  readonly recordsPerMs: number;
  readonly bytesPerMs: number;
  readonly recordCapacity: number;
  readonly byteCapacity: number;
  readonly adaptive: boolean;
  readonly initialRatio: number;
  readonly decreaseFactor: number;
  readonly throttledShareThreshold: number;
  readonly increasePerMs: number;
  readonly minRatio: number;
  readonly decreaseIntervalMs: number;
}

const DEFAULT_BURST_SECONDS = 1;
const DEFAULT_DECREASE_FACTOR = 0.85;
const DEFAULT_THROTTLED_SHARE_THRESHOLD = 0.02;
const DEFAULT_INCREASE_SHARE = 0.05;
const DEFAULT_MIN_SHARE = 0.02;
const DEFAULT_DECREASE_INTERVAL_MS = 500;

/** Validates `options` and fills in the defaults; throws a RangeError naming the field, the range and the value. */
export function resolveLimiterOptions(options: ShardRateLimiterOptions): ResolvedLimiterOptions {
  const { recordsPerSecond, bytesPerSecond } = options;
  const burstSeconds = options.burstSeconds ?? DEFAULT_BURST_SECONDS;
  requirePositive('recordsPerSecond', recordsPerSecond);
  requirePositive('bytesPerSecond', bytesPerSecond);
  requirePositive('burstSeconds', burstSeconds);
  const adaptive = options.adaptive;
  const initialRatio = adaptive === undefined ? 1 : requireRatio('adaptive.initialRatio', adaptive.initialRatio);
  const increasePerSecond = adaptive?.increasePerSecond ?? DEFAULT_INCREASE_SHARE * initialRatio;
  requirePositive('adaptive.increasePerSecond', increasePerSecond);
  const throttledShareThreshold = adaptive?.throttledShareThreshold ?? DEFAULT_THROTTLED_SHARE_THRESHOLD;
  if (!Number.isFinite(throttledShareThreshold) || throttledShareThreshold < 0 || throttledShareThreshold >= 1) {
    throw new RangeError(`adaptive.throttledShareThreshold must be a number from 0 up to below 1; got ${throttledShareThreshold}`);
  }
  const decreaseIntervalMs = adaptive?.decreaseIntervalMs ?? DEFAULT_DECREASE_INTERVAL_MS;
  if (!Number.isFinite(decreaseIntervalMs) || decreaseIntervalMs < 0) {
    throw new RangeError(`adaptive.decreaseIntervalMs must be a finite number from 0 up; got ${decreaseIntervalMs}`);
  }
  return {
    recordsPerMs: recordsPerSecond / 1000,
    bytesPerMs: bytesPerSecond / 1000,
    // Rounded as the float32 record buckets store them, so that a full bucket equals its capacity.
    recordCapacity: Math.fround(recordsPerSecond * burstSeconds),
    byteCapacity: bytesPerSecond * burstSeconds,
    adaptive: adaptive !== undefined,
    initialRatio,
    decreaseFactor: requireRatio('adaptive.decreaseFactor', adaptive?.decreaseFactor ?? DEFAULT_DECREASE_FACTOR),
    throttledShareThreshold,
    increasePerMs: increasePerSecond / 1000,
    minRatio: requireRatio('adaptive.minRatio', adaptive?.minRatio ?? DEFAULT_MIN_SHARE * initialRatio),
    decreaseIntervalMs,
  };
}

function requireRatio(field: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new RangeError(`${field} must be a number above 0 and at most 1; got ${value}`);
  }
  return value;
}

function requirePositive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field} must be a finite number above 0; got ${value}`);
  }
}
