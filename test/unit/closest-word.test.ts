import { describe, expect, it } from 'vitest';
import { closestWord } from '../../src/closest-word.js';

const OPTIONS = ['recordMaxBufferedTime', 'recordTtl', 'maxConnections', 'rateLimit'];

describe('closestWord', () => {
  it('finds the known word a misspelling meant, ignoring case', () => {
    expect(closestWord('recordMaxBufferTime', OPTIONS)).toBe('recordMaxBufferedTime');
    expect(closestWord('RATELIMIT', OPTIONS)).toBe('rateLimit');
    expect(closestWord('recordTTL', OPTIONS)).toBe('recordTtl');
  });

  it('suggests nothing when no word is near enough', () => {
    expect(closestWord('compressionLevel', OPTIONS)).toBeUndefined();
    expect(closestWord('x', [])).toBeUndefined();
  });

  it('allows 3 edits for a short word and a third of the length for a long one', () => {
    expect(closestWord('abcxyz', ['abc'])).toBe('abc');
    expect(closestWord('abcwxyz', ['abc'])).toBeUndefined();
    expect(closestWord('aaaaaaaaaaaaaaaaaaaaaaaa', ['aaaaaaaaaaaaaaaaaaaabbbb'])).toBe('aaaaaaaaaaaaaaaaaaaabbbb');
  });
});
