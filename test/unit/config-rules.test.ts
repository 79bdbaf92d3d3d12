import { describe, expect, it } from 'vitest';
import {
  boolean,
  checkRule,
  choice,
  configError,
  free,
  number,
  optionalNumber,
  optionalString,
  rejectUnknownKeys,
} from '../../src/config-rules.js';
import { ValidationError } from '../../src/records.js';

function thrown(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('config rules', () => {
  it('gives the default when absent, and the value when it follows the rule', () => {
    expect(checkRule('n', number(5, 1, 10), undefined)).toBe(5);
    expect(checkRule('n', number(5, 1, 10), 10)).toBe(10);
    expect(checkRule('o', optionalNumber(1, 10), undefined)).toBeUndefined();
    expect(checkRule('b', boolean(true), false)).toBe(false);
    expect(checkRule('c', choice('a', ['a', 'b']), 'b')).toBe('b');
    expect(checkRule('f', free, { any: 1 })).toEqual({ any: 1 });
  });

  it('names the option, the problem and the limit', () => {
    const tooHigh = thrown(() => checkRule('maxConnections', number(24, 1, 256), 300));
    expect(tooHigh).toBeInstanceOf(ValidationError);
    expect(tooHigh).toMatchObject({ code: 'KPL_CONFIG_INVALID', field: 'maxConnections', limit: 256, actual: 300 });
    expect(tooHigh.message).toBe('maxConnections is 300; it must be from 1 to 256');
    expect(thrown(() => checkRule('n', number(5, 1, 10), 1.5)).message).toMatch(/^n must be a whole number from 1 to 10/);
    expect(thrown(() => checkRule('b', boolean(true), 'yes')).message).toMatch(/^b must be true or false/);
    expect(thrown(() => checkRule('c', choice('a', ['a', 'b']), 'z')).message).toMatch(/^c must be one of 'a', 'b'/);
    expect(thrown(() => optionalString({ s: '' }, 's')).message).toMatch(/^s must be a non-empty string/);
    expect(optionalString({}, 's')).toBeUndefined();
  });

  it('rejects an unknown key with a suggestion, or the list of known ones', () => {
    expect(thrown(() => rejectUnknownKeys({ minDelayMS: 1 }, ['minDelayMs', 'maxDelayMs'], 'retry.')).message).toBe(
      'unknown option retry.minDelayMS; did you mean retry.minDelayMs?',
    );
    expect(thrown(() => rejectUnknownKeys({ zzzzzzzz: 1 }, ['a', 'b'], '')).message).toBe(
      'unknown option zzzzzzzz; known options are a, b',
    );
    expect(() => rejectUnknownKeys({ a: 1 }, ['a'], '')).not.toThrow();
    expect(configError('x', 'bad').code).toBe('KPL_CONFIG_INVALID');
  });
});
