import type { LatencyRecorder } from './latency.js';

/** Counts of a run so far, for progress. */
export interface LoadProgress {
  readonly elapsedMs: number;
  /** Records handed to the producer (or to PutRecords). */
  readonly offered: number;
  readonly delivered: number;
  readonly failed: number;
}

/** What one load run did, seen from the application's side. */
export interface LoadResult extends LoadProgress {
  /** Data bytes of the delivered records. */
  readonly deliveredBytes: number;
  /** Failed records by error code (or error name). */
  readonly failuresByCode: Readonly<Record<string, number>>;
  /** From the first record offered to the last one settled. */
  readonly latency: LatencyRecorder;
  /** Highest resident set size of this process seen during the run. */
  readonly peakRssBytes: number;
  /** CPU time (user and system) of this process during the run, in percent of the run's wall time: 100 is one core. */
  readonly cpuPercent: number;
  /**
   * Milliseconds the application waited on the producer's backpressure (at maxOutstandingRecords):
   * time in which the producer, not the application, set the pace. Null where no producer paces it.
   */
  readonly heldMs: number | null;
  /** deliveredIndices[i] is 1 when record i was delivered; kept only when a read-back will check it. */
  readonly deliveredIndices: Uint8Array | undefined;
}

/** Hooks of a load run. */
export interface LoadHooks {
  /** Called about every 250 ms while the run lasts. */
  readonly onProgress?: (progress: LoadProgress) => void;
  /** Ends the offering early (SIGINT); records already offered still settle. */
  readonly signal?: AbortSignal;
}

/** Samples RSS every 100 ms and reports progress every 250 ms until stopped; measures the CPU time in between. */
export class RunMonitor {
  #peakRss = process.memoryUsage.rss();
  readonly #startedAt = performance.now();
  readonly #cpuAtStart = process.cpuUsage();
  #cpuPercent: number | undefined;
  readonly #timers: NodeJS.Timeout[];

  constructor(progress: () => void) {
    this.#timers = [
      setInterval(() => {
        this.#peakRss = Math.max(this.#peakRss, process.memoryUsage.rss());
      }, 100),
      setInterval(progress, 250),
    ];
  }

  get peakRssBytes(): number {
    return Math.max(this.#peakRss, process.memoryUsage.rss());
  }

  /** CPU time of this process from the monitor's start to {@link stop} (or to now), in percent of the wall time. */
  get cpuPercent(): number {
    return this.#cpuPercent ?? this.#measureCpu();
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#cpuPercent ??= this.#measureCpu();
  }

  #measureCpu(): number {
    const { user, system } = process.cpuUsage(this.#cpuAtStart);
    const wallMs = performance.now() - this.#startedAt;
    return wallMs <= 0 ? 0 : Math.round(((user + system) / 1000 / wallMs) * 1000) / 10;
  }
}

/** Counts delivered records and, for a read-back, remembers which ones (a byte per record offered). */
export class DeliveredSet {
  count = 0;
  #indices: Uint8Array | undefined;

  constructor(keepIndices: boolean) {
    this.#indices = keepIndices ? new Uint8Array(1 << 16) : undefined;
  }

  get indices(): Uint8Array | undefined {
    return this.#indices;
  }

  add(index: number): void {
    this.count++;
    let indices = this.#indices;
    if (indices === undefined) return;
    if (index >= indices.length) {
      const grown = new Uint8Array(Math.max(indices.length * 2, index + 1));
      grown.set(indices);
      this.#indices = indices = grown;
    }
    indices[index] = 1;
  }
}
