import type { BenchSummary } from './summary.js';

/** A sweep's point as the chart draws it. */
export interface ChartPoint {
  readonly name: string;
  readonly summary: BenchSummary;
}

const WIDTH = 1040;
const HEIGHT = 540;
const MARGIN = { top: 56, right: 360, bottom: 56, left: 84 } as const;
const COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#393b79',
  '#637939',
];

/**
 * Throughput (delivered user records/s) against latency (ms, log scale) for every point of a
 * sweep, as a self-contained SVG: each point is a bar from its p50 to its p99 latency with a dot at
 * p50, so that the trade-off of each setting is read at a glance.
 */
export function renderSweepSvg(points: readonly ChartPoint[], title: string): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const latencies = points.flatMap((p) => [p.summary.latencyMs.p50, p.summary.latencyMs.p99]).map((v) => Math.max(v, 1));
  const minLog = Math.floor(Math.log10(Math.min(...latencies, 10)));
  const maxLog = Math.ceil(Math.log10(Math.max(...latencies, 100)));
  const maxRate = niceCeiling(Math.max(...points.map((p) => p.summary.recordsPerSecond), 1));
  const x = (ms: number): number => MARGIN.left + ((Math.log10(Math.max(ms, 1)) - minLog) / (maxLog - minLog)) * plotWidth;
  const y = (rate: number): number => MARGIN.top + plotHeight - (rate / maxRate) * plotHeight;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`);
  parts.push(`<text x="${MARGIN.left}" y="28" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  for (let power = minLog; power <= maxLog; power++) {
    const position = x(10 ** power);
    parts.push(`<line x1="${position}" y1="${MARGIN.top}" x2="${position}" y2="${MARGIN.top + plotHeight}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${position}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle">${(10 ** power).toLocaleString('en-US')}</text>`,
    );
  }
  for (let step = 0; step <= 5; step++) {
    const rate = (maxRate * step) / 5;
    parts.push(`<line x1="${MARGIN.left}" y1="${y(rate)}" x2="${MARGIN.left + plotWidth}" y2="${y(rate)}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${y(rate) + 4}" text-anchor="end">${Math.round(rate).toLocaleString('en-US')}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333"/>`);
  parts.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 14}" text-anchor="middle">latency from add() to delivery, ms (log scale): dot p50, bar to p99</text>`,
  );
  parts.push(
    `<text transform="translate(20 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">delivered user records/s</text>`,
  );
  points.forEach((point, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const { latencyMs, recordsPerSecond } = point.summary;
    const top = y(recordsPerSecond);
    parts.push(
      `<g><title>${escapeXml(`${point.name}: ${Math.round(recordsPerSecond).toLocaleString('en-US')} records/s, p50 ${latencyMs.p50} ms, p99 ${latencyMs.p99} ms`)}</title>`,
    );
    parts.push(
      `<line x1="${x(latencyMs.p50)}" y1="${top}" x2="${x(latencyMs.p99)}" y2="${top}" stroke="${color}" stroke-width="3" stroke-opacity="0.6"/>`,
    );
    parts.push(`<circle cx="${x(latencyMs.p50)}" cy="${top}" r="5" fill="${color}"/></g>`);
    const legendY = MARGIN.top + 8 + i * 20;
    parts.push(`<circle cx="${WIDTH - MARGIN.right + 20}" cy="${legendY}" r="5" fill="${color}"/>`);
    parts.push(`<text x="${WIDTH - MARGIN.right + 32}" y="${legendY + 4}">${escapeXml(point.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The chart and a table of every point, in one HTML page with nothing to fetch. */
export function renderSweepHtml(points: readonly ChartPoint[], title: string): string {
  const header = [
    'setting',
    'records/s',
    'byte limit used',
    'user records/Kinesis record',
    'PutRecords/s',
    'throttled',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'lost',
  ];
  const rows = points.map(({ name, summary: s }) => [
    name,
    Math.round(s.recordsPerSecond).toLocaleString('en-US'),
    s.byteLimitUsedPercent === null ? '-' : `${s.byteLimitUsedPercent} %`,
    s.userRecordsPerKinesisRecord === null ? '-' : String(s.userRecordsPerKinesisRecord),
    s.putRecordsPerSecond === null ? '-' : String(s.putRecordsPerSecond),
    s.throttledPercent === null ? '-' : `${s.throttledPercent} %`,
    String(s.latencyMs.p50),
    String(s.latencyMs.p90),
    String(s.latencyMs.p99),
    String(s.lost),
  ]);
  const table = [
    `<tr>${header.map((cell) => `<th>${escapeXml(cell)}</th>`).join('')}</tr>`,
    ...rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeXml(cell)}</td>`).join('')}</tr>`),
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse;margin-top:16px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}</style>
</head><body>
${renderSweepSvg(points, title)}
<table>
${table}
</table>
</body></html>
`;
}

function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
