import { describe, expect, it } from 'vitest';
import { CodeCounts, unparsedSummary } from '../../src/cli/send/code-counts.js';

describe('CodeCounts', () => {
  it('counts by code in the order first seen', () => {
    const counts = new CodeCounts();
    for (const code of ['NotJson', 'KeyFieldMissing', 'NotJson']) counts.add(code);
    expect(counts.total).toBe(3);
    expect(counts.toString()).toBe('NotJson 2, KeyFieldMissing 1');
  });

  it("gives the summary's unparsed part, or nothing when none were", () => {
    const counts = new CodeCounts();
    expect(unparsedSummary(counts, false)).toBe('');
    for (let i = 0; i < 1200; i++) counts.add('KeyFieldMissing');
    expect(unparsedSummary(counts, false)).toBe('; 1,200 lines unparsed, sent as they are (KeyFieldMissing 1,200)');
    expect(unparsedSummary(counts, true)).toBe('; 1,200 lines unparsed, skipped (KeyFieldMissing 1,200)');
  });
});
