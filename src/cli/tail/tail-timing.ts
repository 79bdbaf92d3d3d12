/** How long the tailer waits before it acts on quiet files. */
export interface TailTiming {
  /** A file that no pattern matches any more (renamed or deleted) is read until it has been quiet this long, then closed. @default 5000 */
  readonly rotatedIdleMs: number;
  /** A matched file quiet this long is closed, and opened again when it grows. @default 300000 */
  readonly idleCloseMs: number;
  /** A multi-line record waiting this long for its next line is sent as it is. @default 2000 */
  readonly multilineIdleMs: number;
  /** A new file that begins like a followed file, and may be its copy still being written, waits at most this long to be told apart. @default 2000 */
  readonly copyWaitMs: number;
  /** The content of a truncated file waits this long for its copy (copytruncate) to appear. @default 30000 */
  readonly orphanGraceMs: number;
  /** Files gone, and checkpoint entries unmatched, for longer than this are forgotten. @default 7 days */
  readonly ttlMs: number;
}

/** The defaults of {@link TailTiming}. */
export const DEFAULT_TIMING: TailTiming = {
  rotatedIdleMs: 5000,
  idleCloseMs: 300_000,
  multilineIdleMs: 2000,
  copyWaitMs: 2000,
  orphanGraceMs: 30_000,
  ttlMs: 7 * 24 * 3600 * 1000,
};
