/**
 * The append time of the oldest record a spool holds, without a timestamp per record: marks of
 * (sequence, append time) kept at most one per `resolutionMs` of append time, and dropped once the
 * records after them are done. The oldest held record was appended at its own mark's time or up to
 * `resolutionMs` later, so the age read from it is at most that much too high.
 */
export class AppendTimeline {
  readonly #resolutionMs: number;
  #sequences: number[] = [];
  #times: number[] = [];
  #head = 0;
  #lastMarkAt = -Infinity;

  constructor(resolutionMs: number) {
    this.#resolutionMs = resolutionMs;
  }

  /** The resolution for a spool whose records live `maxAgeMs` at most: a second, or coarser so that 100,000 marks span it. */
  static resolutionFor(maxAgeMs: number): number {
    return Math.max(1000, maxAgeMs / 100_000);
  }

  /** An append of `sequence` at `appendedAt`; marked when `resolutionMs` has passed since the last mark. Sequences only grow. */
  appended(sequence: number, appendedAt: number): void {
    if (appendedAt - this.#lastMarkAt < this.#resolutionMs) return;
    this.mark(sequence, appendedAt);
  }

  /** Marks `sequence` as appended at `appendedAt` whatever the resolution: a record recovered at open. */
  mark(sequence: number, appendedAt: number): void {
    this.#sequences.push(sequence);
    this.#times.push(appendedAt);
    this.#lastMarkAt = appendedAt;
  }

  /**
   * Forgets the marks that the oldest held record, `lowest`, has passed: all but the last at or below
   * it. Called as records are done, so that the marks cover only what is held.
   */
  passed(lowest: number): void {
    let head = this.#head;
    while (head + 1 < this.#sequences.length && (this.#sequences[head + 1] as number) <= lowest) head++;
    this.#head = head;
    if (head >= 1024 && head * 2 >= this.#sequences.length) {
      this.#sequences = this.#sequences.slice(head);
      this.#times = this.#times.slice(head);
      this.#head = 0;
    }
  }

  /**
   * When the record `lowest` was appended, from the last mark at or below it (at most `resolutionMs`
   * early), or from the first mark when none is; undefined with no marks.
   */
  appendedAtOf(lowest: number): number | undefined {
    this.passed(lowest);
    return this.#times[this.#head];
  }
}
