/**
 * The offset up to which every record of one file is stored, when records settle out of order.
 * Records are tracked in file order; the prefix advances only over a contiguous run of settled ones,
 * so a checkpoint at {@link AckedPrefix.offset} never skips a line that is still in flight.
 */
export class AckedPrefix {
  #offset: number;
  /** End offsets of the records tracked and not yet passed by the prefix, oldest first, from #head. */
  #ends: number[] = [];
  #settled: boolean[] = [];
  #head = 0;
  /** The ticket of the record at index #head. */
  #firstTicket = 0;

  /** @param offset where the file's reading starts: everything before it counts as stored. */
  constructor(offset: number) {
    this.#offset = offset;
  }

  /** The offset just past the last line of the longest run of stored records from the start. */
  get offset(): number {
    return this.#offset;
  }

  /** Records tracked and not yet behind the prefix. */
  get pending(): number {
    return this.#ends.length - this.#head;
  }

  /** Tracks the next record of the file, whose last line ends at `endOffset`; returns its ticket for {@link settle}. */
  track(endOffset: number): number {
    this.#ends.push(endOffset);
    this.#settled.push(false);
    return this.#firstTicket + this.#ends.length - 1 - this.#head;
  }

  /** Marks the record of `ticket` stored (or given up for good) and advances the prefix over every settled record at its head. */
  settle(ticket: number): void {
    const index = this.#head + ticket - this.#firstTicket;
    if (index < this.#head || index >= this.#ends.length) return;
    this.#settled[index] = true;
    while (this.#head < this.#ends.length && this.#settled[this.#head] === true) {
      const end = this.#ends[this.#head] as number;
      // Pieces of one split line share its end: the line counts as stored once its last piece is.
      if (this.#ends[this.#head + 1] !== end) this.#offset = end;
      this.#head++;
      this.#firstTicket++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#ends.length) {
      this.#ends = this.#ends.slice(this.#head);
      this.#settled = this.#settled.slice(this.#head);
      this.#head = 0;
    }
  }
}
