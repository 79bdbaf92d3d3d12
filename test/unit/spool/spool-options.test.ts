import { describe, expect, it } from 'vitest';
import { defaultSegmentBytes, SPOOL_DEFAULTS } from '../../../src/spool/spool-options.js';

describe('defaultSegmentBytes', () => {
  it('is a sixteenth of maxBytes, from 64 KiB to 16 MiB', () => {
    expect(defaultSegmentBytes(16 * 1024 * 1024)).toBe(1024 * 1024);
    expect(defaultSegmentBytes(1024)).toBe(64 * 1024);
    expect(defaultSegmentBytes(SPOOL_DEFAULTS.maxBytes)).toBe(16 * 1024 * 1024);
  });
});
