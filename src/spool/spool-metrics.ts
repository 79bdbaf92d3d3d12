import { Counter, Gauge, type Registry } from 'prom-client';
import type { SpoolStats } from './spool.js';

/**
 * The spool's metrics, `kpl_spool_*`, read from its counts whenever the registry is scraped: the
 * spool itself never touches a metric on its hot path.
 */
export function registerSpoolMetrics(registry: Registry, stats: () => SpoolStats, now: () => number = Date.now): void {
  const registers = [registry];
  new Gauge({
    name: 'kpl_spool_bytes',
    help: 'Bytes of spool files on disk.',
    registers,
    collect() {
      this.set(stats().bytes);
    },
  });
  new Gauge({
    name: 'kpl_spool_records',
    help: 'Records held in the spool: spooled or recovered, not yet delivered, failed or dropped.',
    registers,
    collect() {
      this.set(stats().records);
    },
  });
  new Gauge({
    name: 'kpl_spool_oldest_record_age_seconds',
    help: 'Age of the oldest record held in the spool, to within a second (spool.maxAgeMs / 100,000 if longer); 0 when empty.',
    registers,
    collect() {
      const oldest = stats().oldestAppendedAt;
      this.set(oldest === undefined ? 0 : Math.max(0, (now() - oldest) / 1000));
    },
  });
  const counters: [string, string, (s: SpoolStats) => number][] = [
    ['kpl_spool_records_recovered_total', 'Records found in the spool at start, left by an earlier process.', (s) => s.recovered],
    ['kpl_spool_records_delivered_total', 'Spooled records that Kinesis stored.', (s) => s.delivered],
    [
      'kpl_spool_records_failed_total',
      'Spooled records that failed for good (unretryable, or throttled with failIfThrottled).',
      (s) => s.failed,
    ],
    ['kpl_spool_records_expired_total', 'Spooled records dropped unsent because they were older than spool.maxAgeMs.', (s) => s.expired],
    ['kpl_spool_corrupt_records_total', 'Records lost to damaged frames in the spool files, skipped.', (s) => s.corrupt],
    ['kpl_spool_truncated_bytes_total', 'Bytes of torn frames cut off the spool at start.', (s) => s.truncatedBytes],
  ];
  for (const [name, help, read] of counters) {
    let reported = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const value = read(stats());
        if (value > reported) this.inc(value - reported);
        reported = value;
      },
    });
  }
}
