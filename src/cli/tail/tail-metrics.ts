import { Counter, Gauge, type Registry } from 'prom-client';
import type { FlowCounts } from './tail-stats.js';

/** What the tailer's metrics read when the registry is scraped. */
export interface TailMetricsSource {
  /** Counts per flow. */
  readonly flows: ReadonlyMap<string, FlowCounts>;
  /** Bytes of each open file not yet stored. */
  bytesBehind(): Iterable<{ readonly flow: string; readonly path: string; readonly bytes: number }>;
  /** Seconds since the checkpoint last held the tailer's state; absent without --checkpoint. */
  readonly checkpointAgeSeconds?: () => number;
}

/**
 * Registers the `kpl_tail_*` metrics beside the producer's: lines read, lines truncated, rotations
 * seen, bytes behind per file, and the checkpoint's age. They are read from plain counts at scrape
 * time, so reading a line costs no metric update.
 */
export function registerTailMetrics(registry: Registry, source: TailMetricsSource): void {
  const perFlow = (name: string, help: string, read: (counts: FlowCounts) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['flow'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [flow, counts] of source.flows) this.inc({ flow }, read(counts));
      },
    });
  };
  perFlow('kpl_tail_lines_read_total', 'Lines read from the followed files.', (counts) => counts.linesRead);
  perFlow('kpl_tail_lines_truncated_total', 'Lines longer than --max-line-bytes, truncated or split.', (counts) => counts.linesTruncated);
  new Counter({
    name: 'kpl_tail_rotations_total',
    help: 'Rotations seen: a followed file renamed, or truncated (copytruncate).',
    labelNames: ['flow', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [flow, counts] of source.flows) {
        this.inc({ flow, kind: 'rename' }, counts.renames);
        this.inc({ flow, kind: 'truncate' }, counts.truncations);
      }
    },
  });
  new Gauge({
    name: 'kpl_tail_bytes_behind',
    help: 'Bytes of an open file not yet stored in the stream.',
    labelNames: ['flow', 'file'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { flow, path, bytes } of source.bytesBehind()) this.set({ flow, file: path }, bytes);
    },
  });
  const checkpointAge = source.checkpointAgeSeconds;
  if (checkpointAge === undefined) return;
  new Gauge({
    name: 'kpl_tail_checkpoint_age_seconds',
    help: 'Seconds since the checkpoint file last held where every file stands.',
    registers: [registry],
    collect() {
      this.set(checkpointAge());
    },
  });
}
