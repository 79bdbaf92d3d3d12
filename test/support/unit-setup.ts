import { afterEach, vi } from 'vitest';

// The unit tier runs its files without isolation (see vitest.config.ts): a test that fails
// between useFakeTimers() and useRealTimers() must not leave fake timers to the next file.
afterEach(() => {
  vi.useRealTimers();
});
