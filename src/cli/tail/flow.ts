import type { LineRecordOptions } from '../lines/line-record-options.js';

/** One job of `kpl tail`: the files its patterns match, read one way, into one stream. */
export interface FlowSpec {
  /** Names the flow in messages, metrics and checkpoint entries. */
  readonly name: string;
  /** Glob patterns (picomatch syntax); relative ones from the working directory. */
  readonly patterns: readonly string[];
  readonly stream: string;
  readonly reader: LineRecordOptions;
  /** Where a file found at the first start (no checkpoint yet) is read from; files that appear later are read from their start. */
  readonly from: 'start' | 'end';
}

/** Counts a flow reports as it reads. */
export interface FlowEvents {
  onLines(flow: string, lines: number, truncated: number): void;
  onRotation(flow: string, kind: 'rename' | 'truncate'): void;
  log(message: string): void;
}
