import { describe, expect, it } from 'vitest';
import { RecordSizes } from '../../src/testing/record-size-requests.js';

describe('RecordSizes', () => {
  it('is 1,024 KiB unless set, and back to it once forgotten', () => {
    const sizes = new RecordSizes();
    expect(sizes.get('s')).toBe(1024);
    sizes.set('s', 10_240);
    expect(sizes.get('s')).toBe(10_240);
    expect(sizes.get('t')).toBe(1024);
    sizes.forget('s');
    expect(sizes.get('s')).toBe(1024);
  });

  it('refuses a size out of range with a RangeError, keeping the one it had', () => {
    const sizes = new RecordSizes();
    sizes.set('s', 2048);
    expect(() => sizes.set('s', 20_000)).toThrow('maxRecordSizeInKiB must be a whole number from 1024 to 10240, got 20000');
    expect(sizes.get('s')).toBe(2048);
  });
});
