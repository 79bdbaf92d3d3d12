import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isUnretryableErrorCode } from '../../src/pipeline/kinesis-client.js';
import { Retrier, RetryScheduler } from '../../src/pipeline/retrier.js';

const POLICY = { minDelayMs: 100, maxDelayMs: 5000, failIfThrottled: false };
const NOW = 1_700_000_000_000;
const FAR = NOW + 3_600_000;

describe('Retrier.decide', () => {
  it.each([
    'AccessDeniedException',
    'ResourceNotFoundException',
    'ValidationException',
    'InvalidArgumentException',
    'KMSAccessDeniedException',
    'KMSDisabledException',
    'KMSInvalidStateException',
    'KMSNotFoundException',
    'KMSOptInRequired',
    'UnrecognizedClientException',
    'InvalidSignatureException',
    'MissingAuthenticationToken',
    'CredentialsProviderError',
    'ProducerClosed',
  ])('fails %s at once as unretryable', (code) => {
    const retrier = new Retrier(POLICY, () => 0.5);
    expect(retrier.decide(code, 0, FAR, NOW)).toEqual({ action: 'fail', reason: 'unretryable' });
    expect(isUnretryableErrorCode(code)).toBe(true);
  });

  it.each([
    'ProvisionedThroughputExceededException',
    'InternalFailure',
    'ServiceUnavailable',
    'KMSThrottlingException',
    'LimitExceededException',
    'ExpiredTokenException',
    'RequestTimeout',
    'ECONNRESET',
    'ECONNREFUSED',
    'UnknownError',
  ])('retries %s', (code) => {
    const retrier = new Retrier(POLICY, () => 0.5);
    expect(retrier.decide(code, 0, FAR, NOW)).toEqual({ action: 'retry', delayMs: 50 });
    expect(isUnretryableErrorCode(code)).toBe(false);
  });

  it('fails throttled records at once only when failIfThrottled', () => {
    const strict = new Retrier({ ...POLICY, failIfThrottled: true }, () => 0.5);
    expect(strict.decide('ProvisionedThroughputExceededException', 0, FAR, NOW)).toEqual({ action: 'fail', reason: 'throttled' });
    expect(strict.decide('InternalFailure', 0, FAR, NOW)).toEqual({ action: 'retry', delayMs: 50 });
  });

  it('doubles the delay bound per retry from minDelayMs up to maxDelayMs', () => {
    const retrier = new Retrier(POLICY, () => 0.999_999);
    const bounds = [0, 1, 2, 3, 4, 5, 6, 10, 100, 5000].map((retries) => retrier.decide('InternalFailure', retries, FAR, NOW));
    expect(bounds).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999, 4999, 4999].map((delayMs) => ({ action: 'retry', delayMs })));
  });

  it('draws each delay uniformly between 0 and the bound (full jitter)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.nat({ max: 80 }), (random, retries) => {
        const decision = new Retrier(POLICY, () => random).decide('InternalFailure', retries, FAR, NOW);
        const bound = Math.min(POLICY.maxDelayMs, POLICY.minDelayMs * 2 ** retries);
        expect(decision).toEqual({ action: 'retry', delayMs: Math.floor(random * bound) });
      }),
    );
  });

  it('fails a record as expired when the delay would pass its deadline', () => {
    const retrier = new Retrier(POLICY, () => 0.5);
    // Bound 400 ms after two retries, so the delay is 200 ms.
    expect(retrier.decide('InternalFailure', 2, NOW + 200, NOW)).toEqual({ action: 'retry', delayMs: 200 });
    expect(retrier.decide('InternalFailure', 2, NOW + 199, NOW)).toEqual({ action: 'fail', reason: 'expired' });
    expect(retrier.decide('InternalFailure', 0, NOW - 1, NOW)).toEqual({ action: 'fail', reason: 'expired' });
  });

  it('names an unretryable error as such even past the deadline', () => {
    const retrier = new Retrier(POLICY);
    expect(retrier.decide('AccessDeniedException', 0, NOW - 1, NOW)).toEqual({ action: 'fail', reason: 'unretryable' });
  });

  it.each([
    [{ minDelayMs: -1, maxDelayMs: 10, failIfThrottled: false }, 'retry.minDelayMs must be a finite number of ms, 0 or more; got -1'],
    [
      { minDelayMs: 100, maxDelayMs: 50, failIfThrottled: false },
      'retry.maxDelayMs must be a finite number of ms, at least retry.minDelayMs (100); got 50',
    ],
    [{ minDelayMs: 100, maxDelayMs: Infinity, failIfThrottled: false }, 'retry.maxDelayMs must be a finite number'],
  ])('rejects the policy %j', (options, message) => {
    expect(() => new Retrier(options)).toThrow(message);
  });
});

describe('Retrier.isStaleMapSignal', () => {
  const retrier = new Retrier(POLICY);

  it.each([
    ['ResourceNotFoundException', 'Shard shardId-000000000001 in stream orders under account 123456789012 does not exist'],
    ['ResourceNotFoundException', 'Could not find shard shardId-000000000004 in stream orders under account 123456789012: not found.'],
    ['InvalidArgumentException', 'Shard shardId-000000000002 in stream orders under account 123456789012 has been closed'],
    ['InvalidArgumentException', 'The shard shardId-000000000003 is not open for writes'],
  ])('sees %s "%s" as a stale map', (code, message) => {
    expect(retrier.isStaleMapSignal(code, message)).toBe(true);
  });

  it.each([
    ['ResourceNotFoundException', 'Stream orders under account 123456789012 not found.'],
    ['InvalidArgumentException', 'ExplicitHashKey must be within the range 0 to 2^128 - 1'],
    ['ProvisionedThroughputExceededException', 'Rate exceeded for shard shardId-000000000001 in stream orders'],
    ['InternalFailure', 'Internal service failure.'],
  ])('does not see %s "%s" as a stale map', (code, message) => {
    expect(retrier.isStaleMapSignal(code, message)).toBe(false);
  });
});

describe('RetryScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function scheduler<T>(): { scheduler: RetryScheduler<T>; batches: T[][] } {
    const batches: T[][] = [];
    return {
      scheduler: new RetryScheduler<T>(
        (items) => batches.push(items),
        () => Date.now(),
      ),
      batches,
    };
  }

  it('hands items back when due, in one batch per due time, on a single timer', () => {
    const { scheduler: s, batches } = scheduler<string>();
    s.schedule('b', 200);
    s.schedule('a', 100);
    s.schedule('a2', 100);
    s.schedule('c', 300);
    expect(s.size).toBe(4);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([['a', 'a2']]);
    vi.advanceTimersByTime(200);
    expect(batches).toEqual([['a', 'a2'], ['b'], ['c']]);
    expect(s.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one timer for thousands of waiting items', () => {
    const { scheduler: s, batches } = scheduler<number>();
    for (let i = 0; i < 5000; i++) s.schedule(i, 1 + ((i * 7919) % 1000));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(batches.flat()).toHaveLength(5000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rearms for an item due before the current earliest', () => {
    const { scheduler: s, batches } = scheduler<string>();
    s.schedule('late', 1000);
    vi.advanceTimersByTime(100);
    s.schedule('early', 50);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(50);
    expect(batches).toEqual([['early']]);
    vi.advanceTimersByTime(850);
    expect(batches).toEqual([['early'], ['late']]);
  });

  it('hands back items due at the same time in the order they were scheduled', () => {
    const { scheduler: s, batches } = scheduler<number>();
    for (let i = 0; i < 100; i++) s.schedule(i, i % 2 === 0 ? 10 : 20);
    vi.advanceTimersByTime(20);
    expect(batches).toEqual([Array.from({ length: 50 }, (_, i) => 2 * i), Array.from({ length: 50 }, (_, i) => 2 * i + 1)]);
  });

  it('hands back any mix of delays in due order, each no earlier than its delay', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 500 }), { minLength: 1, maxLength: 200 }), (delays) => {
        const start = Date.now();
        const released: Array<{ delay: number; at: number }> = [];
        const s = new RetryScheduler<number>(
          (items) => released.push(...items.map((delay) => ({ delay, at: Date.now() - start }))),
          () => Date.now(),
        );
        for (const delay of delays) s.schedule(delay, delay);
        vi.advanceTimersByTime(501);
        expect(released.map((r) => r.delay)).toEqual([...delays].sort((a, b) => a - b));
        for (const { delay, at } of released) expect(at).toBeGreaterThanOrEqual(delay);
      }),
      { numRuns: 50 },
    );
  });

  it('drains every waiting item at once, earliest first, and cancels the timer', () => {
    const { scheduler: s, batches } = scheduler<string>();
    s.schedule('c', 300);
    s.schedule('a', 100);
    s.schedule('b', 200);
    expect(s.drain()).toEqual(['a', 'b', 'c']);
    expect(s.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(batches).toEqual([]);
  });

  it('keeps working after a drain', () => {
    const { scheduler: s, batches } = scheduler<string>();
    s.schedule('a', 100);
    s.drain();
    s.schedule('b', 100);
    vi.advanceTimersByTime(100);
    expect(batches).toEqual([['b']]);
  });

  it('stops its timer on close but drops nothing: drain still returns the items', () => {
    const { scheduler: s, batches } = scheduler<string>();
    s.schedule('a', 100);
    s.close();
    expect(vi.getTimerCount()).toBe(0);
    s.schedule('b', 50);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(batches).toEqual([]);
    expect(s.size).toBe(2);
    expect(s.drain()).toEqual(['b', 'a']);
  });

  it('treats a negative delay as due now', () => {
    const { scheduler: s, batches } = scheduler<string>();
    s.schedule('x', -5);
    vi.advanceTimersByTime(0);
    expect(batches).toEqual([['x']]);
  });
});
