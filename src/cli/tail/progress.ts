/** Files named in one progress line at most; the rest are counted. */
const FILES_SHOWN = 5;

/**
 * The progress line: lines read, records delivered, and the bytes behind of the files furthest
 * behind, e.g. `12,000 lines read, 11,950 records delivered, 0 failed; behind: /var/log/app.log 4,096 B`.
 */
export function progressLine(
  linesRead: number,
  delivery: { readonly delivered: number; readonly failed: number; readonly retried: number },
  behind: ReadonlyArray<{ readonly path: string; readonly bytes: number }>,
  spooled = false,
): string {
  const number = (value: number): string => value.toLocaleString('en-US');
  let line = `${number(linesRead)} lines read, ${number(delivery.delivered)} records ${spooled ? 'spooled' : 'delivered'}, ${number(delivery.failed)} failed`;
  if (delivery.retried > 0) line += `, ${number(delivery.retried)} retried`;
  const late = behind.filter((file) => file.bytes > 0).sort((a, b) => b.bytes - a.bytes);
  if (late.length === 0) return `${line}; no file behind`;
  const shown = late
    .slice(0, FILES_SHOWN)
    .map((file) => `${file.path} ${number(file.bytes)} B`)
    .join(', ');
  return `${line}; behind: ${shown}${late.length > FILES_SHOWN ? ` and ${number(late.length - FILES_SHOWN)} more files` : ''}`;
}
