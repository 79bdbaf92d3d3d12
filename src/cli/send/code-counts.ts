/** Counts by error or problem code, in the order first seen. */
export class CodeCounts {
  readonly #counts = new Map<string, number>();
  total = 0;

  add(code: string): void {
    this.total++;
    this.#counts.set(code, (this.#counts.get(code) ?? 0) + 1);
  }

  toString(): string {
    return [...this.#counts].map(([code, n]) => `${code} ${n.toLocaleString('en-US')}`).join(', ');
  }
}

/** The end of `kpl send`'s summary about unparsed lines, `; N lines unparsed, sent as they are (CODE n)`; '' when there were none. */
export function unparsedSummary(unparsed: CodeCounts, skipped: boolean): string {
  if (unparsed.total === 0) return '';
  return `; ${unparsed.total.toLocaleString('en-US')} lines unparsed, ${skipped ? 'skipped' : 'sent as they are'} (${unparsed.toString()})`;
}
