import type { Random } from './random.js';

/**
 * Faults that {@link LocalKinesis} injects. Rates are fractions from 0 to 1 of the requests (or
 * records) that the faults apply to; a request draws at most one request fault. Omitted faults are
 * off.
 */
export interface Faults {
  /** Requests answered HTTP 500 with an `InternalFailure` error. @default 0 */
  readonly internalFailureRate?: number;
  /** Requests answered HTTP 503 with a `ServiceUnavailable` error. @default 0 */
  readonly serviceUnavailableRate?: number;
  /** Requests whose connection is reset (TCP RST) once the request has arrived; nothing is stored. @default 0 */
  readonly connectionResetRate?: number;
  /** Requests that are never answered; the connection stays open until the client gives up. @default 0 */
  readonly hangRate?: number;
  /**
   * Records of a PutRecords request that fail on their own with `InternalFailure` while the others
   * are stored. A PutRecord request draws the same rate and fails whole with HTTP 500. @default 0
   */
  readonly recordFailureRate?: number;
  /**
   * Milliseconds added before a request is handled: a fixed delay, or `[min, max]` drawn
   * uniformly for each request. @default 0
   */
  readonly latencyMs?: number | readonly [number, number];
  /**
   * The operations (X-Amz-Target names such as `'PutRecords'`) that faults apply to, or `'all'`.
   * By default only writes are faulted, so that tests can still read back what was stored.
   * @default ['PutRecords', 'PutRecord']
   */
  readonly operations?: 'all' | readonly string[];
}

/** A fault that replaces the normal answer to a whole request. */
export type RequestFault = 'connectionReset' | 'hang' | 'internalFailure' | 'serviceUnavailable';

/** Faults checked and ready to draw from. */
export class FaultPlan {
  readonly #requestFaults: ReadonlyArray<readonly [RequestFault, number]>;
  readonly #recordFailureRate: number;
  readonly #latency: readonly [number, number];
  readonly #operations: ReadonlySet<string> | 'all';

  /** Checks every field; throws a RangeError naming the field and its range. */
  constructor(faults: Faults) {
    checkKnownFields(faults);
    this.#requestFaults = (
      [
        ['connectionReset', rate(faults.connectionResetRate, 'connectionResetRate')],
        ['hang', rate(faults.hangRate, 'hangRate')],
        ['internalFailure', rate(faults.internalFailureRate, 'internalFailureRate')],
        ['serviceUnavailable', rate(faults.serviceUnavailableRate, 'serviceUnavailableRate')],
      ] as const
    ).filter(([, value]) => value > 0);
    const total = this.#requestFaults.reduce((sum, [, value]) => sum + value, 0);
    if (total > 1) {
      throw new RangeError(`faults: the request fault rates add up to ${total}; their sum must be at most 1`);
    }
    this.#recordFailureRate = rate(faults.recordFailureRate, 'recordFailureRate');
    this.#latency = latencyRange(faults.latencyMs);
    this.#operations = operations(faults.operations);
  }

  /** True when faults apply to this operation. */
  appliesTo(operation: string): boolean {
    return this.#operations === 'all' || this.#operations.has(operation);
  }

  /** Milliseconds to delay this request, 0 for none. */
  drawLatency(random: Random): number {
    const [min, max] = this.#latency;
    return max === 0 ? 0 : min + (max - min) * random();
  }

  /** The fault that replaces this request's answer, or undefined to answer it. */
  drawRequestFault(random: Random): RequestFault | undefined {
    if (this.#requestFaults.length === 0) return undefined;
    let draw = random();
    for (const [fault, value] of this.#requestFaults) {
      if (draw < value) return fault;
      draw -= value;
    }
    return undefined;
  }

  /** True when this record fails on its own with InternalFailure. */
  drawRecordFailure(random: Random): boolean {
    return this.#recordFailureRate > 0 && random() < this.#recordFailureRate;
  }
}

const FAULT_FIELDS = new Set([
  'internalFailureRate',
  'serviceUnavailableRate',
  'connectionResetRate',
  'hangRate',
  'recordFailureRate',
  'latencyMs',
  'operations',
]);

function checkKnownFields(faults: Faults): void {
  for (const key of Object.keys(faults)) {
    if (!FAULT_FIELDS.has(key)) {
      throw new RangeError(`faults.${key} is not a fault; expected one of ${[...FAULT_FIELDS].join(', ')}`);
    }
  }
}

function rate(value: number | undefined, field: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new RangeError(`faults.${field} must be a number from 0 to 1, got ${String(value)}`);
  }
  return value;
}

function latencyRange(value: Faults['latencyMs']): readonly [number, number] {
  const [min, max] = value === undefined ? [0, 0] : typeof value === 'number' ? [value, value] : value;
  if (!isDelay(min) || !isDelay(max) || min > max) {
    throw new RangeError(`faults.latencyMs must be milliseconds from 0 up, or [min, max] with min <= max, got ${JSON.stringify(value)}`);
  }
  return [min, max];
}

function isDelay(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function operations(value: Faults['operations']): ReadonlySet<string> | 'all' {
  if (value === undefined) return new Set(['PutRecords', 'PutRecord']);
  if (value === 'all') return 'all';
  if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) {
    throw new RangeError(`faults.operations must be 'all' or an array of operation names, got ${JSON.stringify(value)}`);
  }
  return new Set(value);
}
