/**
 * `kinesis-kpl/testing`: a local Kinesis for tests and benchmarks that enforces the per-shard
 * write limits and injects faults. Importing it does not load kinesalite; starting one does.
 */
export { LocalKinesis } from './local-kinesis.js';
export type { LocalKinesisOptions, StreamSpec } from './local-kinesis-options.js';
export type { Faults } from './faults.js';
export type { WriteLimits, ResolvedWriteLimits } from './limits.js';
export type { FaultCounts, LocalKinesisStats, StreamStats, WriteCounts } from './stats.js';
