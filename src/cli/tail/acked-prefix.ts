/** Records tracked at first; the ring doubles when more are in flight. */
const INITIAL_CAPACITY = 1024;

/**
 * The offset up to which every record of one file is stored, when records settle out of order.
 * Records are tracked in file order; the prefix advances only over a contiguous run of settled ones,
 * so a checkpoint at {@link AckedPrefix.offset} never skips a line that is still in flight. The
 * records in flight are kept in a ring of typed arrays: tracking and settling allocate nothing.
 */
export class AckedPrefix {
  #offset: number;
  /** End offset of each record in flight, oldest at #head; a float holds every safe-integer offset. */
  #ends = new Float64Array(INITIAL_CAPACITY);
  /** 1 where the record in that slot has settled. */
  #settled = new Uint8Array(INITIAL_CAPACITY);
  #mask = INITIAL_CAPACITY - 1;
  /** The slot of the oldest record in flight. */
  #head = 0;
  #count = 0;
  /** The ticket of the record at #head. */
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
    return this.#count;
  }

  /** Tracks the next record of the file, whose last line ends at `endOffset`; returns its ticket for {@link settle}. */
  track(endOffset: number): number {
    if (this.#count === this.#ends.length) this.#grow();
    const slot = (this.#head + this.#count) & this.#mask;
    this.#ends[slot] = endOffset;
    this.#settled[slot] = 0;
    return this.#firstTicket + this.#count++;
  }

  /** Marks the record of `ticket` stored (or given up for good) and advances the prefix over every settled record at its head. */
  settle(ticket: number): void {
    const index = ticket - this.#firstTicket;
    if (index < 0 || index >= this.#count) return;
    const ends = this.#ends;
    const settled = this.#settled;
    const mask = this.#mask;
    settled[(this.#head + index) & mask] = 1;
    let head = this.#head;
    while (this.#count > 0 && settled[head] === 1) {
      const end = ends[head] as number;
      const next = (head + 1) & mask;
      // Pieces of one split line share its end: the line counts as stored once its last piece is.
      if (this.#count === 1 || ends[next] !== end) this.#offset = end;
      head = next;
      this.#count--;
      this.#firstTicket++;
    }
    this.#head = head;
  }

  /** Doubles the ring, keeping the records in flight in order from slot 0. */
  #grow(): void {
    const capacity = this.#ends.length * 2;
    const ends = new Float64Array(capacity);
    const settled = new Uint8Array(capacity);
    for (let i = 0; i < this.#count; i++) {
      const slot = (this.#head + i) & this.#mask;
      ends[i] = this.#ends[slot] as number;
      settled[i] = this.#settled[slot] as number;
    }
    this.#ends = ends;
    this.#settled = settled;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}
