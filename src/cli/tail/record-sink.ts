import type { LineRecord } from '../lines/line-record-options.js';
import type { AckedPrefix } from './acked-prefix.js';

/** Where the records a flow reads go. */
export interface RecordSink {
  /** Sends one record; settling it in `acks` (once stored) moves the checkpoint past `endOffset`. */
  send(record: LineRecord, stream: string, acks: AckedPrefix, endOffset: number): void;
  /** Resolves when there is room for more records; at once when there is. */
  ready(): Promise<void>;
}
