/**
 * Records waiting for room, oldest first: a queue that hands them on in the order they came, and
 * tells whoever waits when it is empty. Taking from the front moves an index, not the array.
 */
export class RecordBacklog<T> {
  #items: Array<T | undefined> = [];
  #head = 0;
  #whenEmpty: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  /** Records waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a record at the back. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The record at the front, still waiting; undefined when none waits. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Takes the record at the front; once the last is taken, wakes {@link whenEmpty}'s waiters. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
      this.#wake?.();
      this.#wake = undefined;
      this.#whenEmpty = undefined;
    } else if (this.#head >= 4096 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Resolves once no record waits, at once if none does. */
  whenEmpty(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    this.#whenEmpty ??= new Promise((resolve) => (this.#wake = resolve));
    return this.#whenEmpty;
  }
}
