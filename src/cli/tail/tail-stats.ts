import type { FlowEvents } from './flow.js';

/** What one flow has done, in plain numbers: the progress line and the metrics read them. */
export interface FlowCounts {
  linesRead: number;
  linesTruncated: number;
  renames: number;
  truncations: number;
}

/** The tailer's counts per flow, kept as the flows report them. */
export class TailStats implements FlowEvents {
  readonly flows = new Map<string, FlowCounts>();
  readonly #log: (message: string) => void;

  constructor(log: (message: string) => void) {
    this.#log = log;
  }

  onLines(flow: string, lines: number, truncated: number): void {
    const counts = this.#of(flow);
    counts.linesRead += lines;
    counts.linesTruncated += truncated;
  }

  onRotation(flow: string, kind: 'rename' | 'truncate'): void {
    if (kind === 'rename') this.#of(flow).renames++;
    else this.#of(flow).truncations++;
  }

  log(message: string): void {
    this.#log(message);
  }

  /** Lines read by every flow. */
  get linesRead(): number {
    let total = 0;
    for (const counts of this.flows.values()) total += counts.linesRead;
    return total;
  }

  #of(flow: string): FlowCounts {
    let counts = this.flows.get(flow);
    if (counts === undefined) {
      counts = { linesRead: 0, linesTruncated: 0, renames: 0, truncations: 0 };
      this.flows.set(flow, counts);
    }
    return counts;
  }
}
