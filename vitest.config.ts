import { defineConfig } from 'vitest/config';

/** Integration files whose assertions are rates near the shards' limits (see `throughput` below). */
const MEASURES_THROUGHPUT = ['test/integration/spool-outage.test.ts', 'test/integration/cli-bench-writers.test.ts'];

// Two tiers, run as vitest projects: `npm run test:unit` (no server, seconds) and
// `npm run test:integration` (real Kinesis-compatible servers on 127.0.0.1; its `throughput` part runs
// last, one file at a time). `vitest run` runs them all.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Unit test files share their workers' module graph: isolating each file re-imports the
          // SDK and fast-check, which took two thirds of the tier's time. What a file may leave
          // behind (fake timers, stubbed globals and environment) is undone after every test.
          isolate: false,
          setupFiles: ['test/support/unit-setup.ts'],
          unstubEnvs: true,
          unstubGlobals: true,
          restoreMocks: true,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: MEASURES_THROUGHPUT,
          // The shared kinesalite starts only for the tier that uses it.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'throughput',
          include: MEASURES_THROUGHPUT,
          // These files assert that shards are filled to their limits, which needs the CPU: they run
          // one at a time, after the other tiers, so that the suite's other files do not starve them.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
