/** The per-shard write limits that {@link LocalKinesis} enforces, like the service does. */
export interface WriteLimits {
  /** Records per second each shard accepts. @default 1000 */
  readonly recordsPerSecond?: number;
  /** Bytes per second each shard accepts, counting data plus partition key. @default 1048576 */
  readonly bytesPerSecond?: number;
  /**
   * Seconds of unused allowance a shard may save up and spend at once; the buckets start full.
   * A record larger than the byte burst still passes when the byte bucket is full, and leaves
   * it in debt.
   * @default 1
   */
  readonly burstSeconds?: number;
}

/** Limits with every field set. */
export interface ResolvedWriteLimits {
  readonly recordsPerSecond: number;
  readonly bytesPerSecond: number;
  readonly burstSeconds: number;
}

/** The service's per-shard write limits. */
export const SERVICE_WRITE_LIMITS: ResolvedWriteLimits = {
  recordsPerSecond: 1000,
  bytesPerSecond: 1_048_576,
  burstSeconds: 1,
};

/** Fills in defaults and checks every field; throws a RangeError naming the field and its range. */
export function resolveWriteLimits(limits: WriteLimits): ResolvedWriteLimits {
  const fields = Object.keys(SERVICE_WRITE_LIMITS) as Array<keyof ResolvedWriteLimits>;
  for (const key of Object.keys(limits)) {
    if (!(fields as string[]).includes(key)) {
      throw new RangeError(`limits.${key} is not a limit; expected one of ${fields.join(', ')}`);
    }
  }
  const resolved = { ...SERVICE_WRITE_LIMITS, ...definedFields(limits) };
  for (const field of fields) {
    const value = resolved[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`limits.${field} must be a finite number above 0, got ${String(value)}`);
    }
  }
  return resolved;
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
