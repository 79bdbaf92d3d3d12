import type { WritersSummary } from './writers.js';

/** `kpl bench --writers`'s summary as an aligned table, one figure a line, then each shard's. */
export function formatWriters(summary: WritersSummary): string {
  const rows: Array<[string, string]> = [
    ['writers (producer processes)', String(summary.writers)],
    ['shards', String(summary.shards)],
    ['records offered', summary.records.toLocaleString('en-US')],
    ['records lost', summary.lost.toLocaleString('en-US')],
    ['bytes sent per byte stored', summary.bytesSentPerByteStored.toFixed(3)],
    [`  from ${summary.warmupSeconds} s to ${summary.durationSeconds} s`, summary.windowBytesSentPerByteStored.toFixed(3)],
    ['throttled', `${summary.throttledPercent.toFixed(1)} %`],
    [`stream byte limit used (${summary.warmupSeconds} s to ${summary.durationSeconds} s)`, `${summary.byteLimitUsedPercent.toFixed(1)} %`],
    [
      'writer shares',
      `${summary.writerSharesPercent.map((share) => `${share.toFixed(1)} %`).join(', ')} (largest/smallest ${summary.shareSpread.toFixed(2)})`,
    ],
    ['writer records offered/s', summary.writerOfferedPerSecond.map((rate) => rate.toLocaleString('en-US')).join(', ')],
    ['writer CPU (% of a core)', summary.writerCpuPercent.map((cpu) => cpu.toFixed(0)).join(', ')],
    [
      'writer time held by backpressure',
      summary.writerHeldPercent.map((held) => (held === null ? '-' : `${held.toFixed(0)} %`)).join(', '),
    ],
    ['load average (1 min) at start, end', summary.loadAverage.map((load) => load.toFixed(2)).join(', ')],
  ];
  for (const shard of summary.shardStats) {
    rows.push([`${shard.shardId} byte limit used`, `${shard.byteLimitUsedPercent.toFixed(1)} %`]);
    rows.push([
      `${shard.shardId} final rate per writer`,
      shard.finalRatePercent.map((rate) => (rate === null ? '-' : `${rate.toFixed(1)} %`)).join(', '),
    ]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}   ${value}`).join('\n');
}
