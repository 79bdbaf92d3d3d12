import type { ProducerSettings } from './run-bench.js';

/** One point of a sweep: a name and the settings it changes. */
export interface SweepPoint {
  readonly name: string;
  readonly settings: Partial<ProducerSettings>;
}

const LINGERS_MS = [20, 100, 500] as const;
const AGGREGATE_SIZES = [4096, 51_200, 262_144] as const;

/**
 * The settings a sweep tries: every recordMaxBufferedTime against every aggregationMaxSize, then
 * aggregation off, and the per-shard rate limit at the producer's default of 150 % instead of the bench's 100 %.
 */
export function sweepPoints(): SweepPoint[] {
  const points: SweepPoint[] = [];
  for (const linger of LINGERS_MS) {
    for (const size of AGGREGATE_SIZES) {
      points.push({
        name: `linger ${linger} ms, aggregates ${formatSize(size)}`,
        settings: { recordMaxBufferedTime: linger, aggregationMaxSize: size },
      });
    }
  }
  points.push({ name: 'linger 100 ms, no aggregation', settings: { recordMaxBufferedTime: 100, aggregationEnabled: false } });
  points.push({
    name: 'linger 100 ms, aggregates 50 KiB, rateLimit 150 %',
    settings: { recordMaxBufferedTime: 100, aggregationMaxSize: 51_200, rateLimit: 150 },
  });
  return points;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 ? `${Math.round(bytes / 1024)} KiB` : `${bytes} B`;
}
