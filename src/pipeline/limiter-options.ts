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
   * Factor a decrease multiplies the rate by. Once the shard has settled, the cut (1 − factor)
   * shrinks with √(rate / limit) below the service's limit, so that a smaller share loses less.
   * @default 0.8
   */
  decreaseFactor?: number | undefined;
  /**
   * Share of the throttled bytes, among those reported since the last decrease, below which a
   * throttle does not lower the rate: a lone writer's occasional throttle from timing jitter.
   * From 0 (every throttle counts) to below 1. @default 0.02
   */
  throttledShareThreshold?: number | undefined;
  /**
   * Share of the ceiling a holding shard (one that wanted to send more than its rate) regains per
   * second at the service's limit, the probe term: times (rate / limit)⁴ at other rates, so that a
   * lone writer regains a fall and probes past the limit, up to rateLimit %.
   * @default 5 % of the service's limit, 0.05 × initialRatio
   */
  increasePerSecond?: number | undefined;
  /**
   * Share of the ceiling a holding shard regains per second at the service's limit from the
   * catch-up term: times (limit / rate)⁴ at other rates, 5.4 % of the limit a second at a third of
   * it, so that writers at smaller shares climb faster than those at larger ones.
   * @default 0.067 % of the service's limit, 0.00067 × initialRatio
   */
  catchUpPerSecond?: number | undefined;
  /** The most share of the ceiling a holding shard regains per second. @default 8 % of the service's limit, 0.08 × initialRatio */
  maxIncreasePerSecond?: number | undefined;
  /** Lowest share of the ceiling a shard falls to. @default 2 % of the service's limit, 0.02 × initialRatio */
  minRatio?: number | undefined;
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
  readonly catchUpPerMs: number;
  readonly maxIncreasePerMs: number;
  readonly minRatio: number;
}

const DEFAULT_BURST_SECONDS = 1;
const DEFAULT_DECREASE_FACTOR = 0.8;
const DEFAULT_THROTTLED_SHARE_THRESHOLD = 0.02;
const DEFAULT_INCREASE_SHARE = 0.05;
const DEFAULT_CATCH_UP_SHARE = 0.00067;
const DEFAULT_MAX_INCREASE_SHARE = 0.08;
const DEFAULT_MIN_SHARE = 0.02;

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
  const catchUpPerSecond = adaptive?.catchUpPerSecond ?? DEFAULT_CATCH_UP_SHARE * initialRatio;
  requirePositive('adaptive.catchUpPerSecond', catchUpPerSecond);
  const maxIncreasePerSecond = adaptive?.maxIncreasePerSecond ?? DEFAULT_MAX_INCREASE_SHARE * initialRatio;
  requirePositive('adaptive.maxIncreasePerSecond', maxIncreasePerSecond);
  const throttledShareThreshold = adaptive?.throttledShareThreshold ?? DEFAULT_THROTTLED_SHARE_THRESHOLD;
  if (!Number.isFinite(throttledShareThreshold) || throttledShareThreshold < 0 || throttledShareThreshold >= 1) {
    throw new RangeError(`adaptive.throttledShareThreshold must be a number from 0 up to below 1; got ${throttledShareThreshold}`);
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
    catchUpPerMs: catchUpPerSecond / 1000,
    maxIncreasePerMs: maxIncreasePerSecond / 1000,
    minRatio: requireRatio('adaptive.minRatio', adaptive?.minRatio ?? DEFAULT_MIN_SHARE * initialRatio),
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
