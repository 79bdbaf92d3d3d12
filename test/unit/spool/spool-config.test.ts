import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config.js';
import { ValidationError } from '../../../src/records.js';

describe('spool options', () => {
  it('are off when absent, and take their defaults', () => {
    expect(resolveConfig({ streamName: 's' }).spool).toBeUndefined();
    expect(resolveConfig({ streamName: 's', spool: { directory: '/tmp/x' } }).spool).toEqual({
      directory: '/tmp/x',
      maxBytes: 1024 ** 3,
      maxAgeMs: 7 * 24 * 3600 * 1000,
      syncIntervalMs: 100,
      onFailure: undefined,
    });
  });

  it.each([
    [{ spool: 'dir' }, 'spool'],
    [{ spool: {} }, 'spool.directory'],
    [{ spool: { directory: '' } }, 'spool.directory'],
    [{ spool: { directory: 'd', maxBytes: 1000 } }, 'spool.maxBytes'],
    [{ spool: { directory: 'd', maxAgeMs: 1.5 } }, 'spool.maxAgeMs'],
    [{ spool: { directory: 'd', syncIntervalMs: -1 } }, 'spool.syncIntervalMs'],
    [{ spool: { directory: 'd', onFailure: 3 } }, 'spool.onFailure'],
    [{ spool: { directory: 'd', maxbytes: 3 } }, 'spool.maxbytes'],
  ])('reject %j naming %s', (options, field) => {
    let caught: unknown;
    try {
      resolveConfig({ streamName: 's', ...(options as object) });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe(field);
  });

  it('suggest the option meant', () => {
    expect(() => resolveConfig({ streamName: 's', spool: { directory: 'd', maxbytes: 3 } as never })).toThrow(
      'did you mean spool.maxBytes?',
    );
  });
});
