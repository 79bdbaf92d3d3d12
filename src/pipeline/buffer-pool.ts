/**
 * Reuses the large buffers the pipeline fills and drops at a high rate: encoded aggregates (up to
 * aggregationMaxSize each) and PutRecords bodies (up to 5 MiB). A fresh Buffer of that size costs
 * the kernel's page faults on first write, several times the cost of writing into memory already
 * touched, and each one counts as external memory that pushes V8 into extra full collections.
 * Buffers are kept by power-of-two size class, up to a byte budget for all of them, so that what a
 * pool holds stays bounded however the sizes vary.
 */

/** Smaller buffers come from Node's own 8 KiB pool, which is cheap already. */
const MIN_POOLED_BYTES = 4096;

/** Options of a {@link BufferPool}. */
export interface BufferPoolOptions {
  /** Capacity of the free buffers kept, all classes together; released ones beyond it are left to the garbage collector. */
  readonly maxFreeBytes: number;
}

/** A pool of Buffers by power-of-two capacity. */
export class BufferPool {
  readonly #maxFreeBytes: number;
  #freeBytes = 0;
  /** Free slabs per size class (the class is log2 of the capacity). */
  readonly #free: Buffer[][] = [];
  /** Which slab a handed-out buffer is a view of, so that release() takes only what acquire() gave. */
  readonly #slabs = new WeakMap<ArrayBufferLike, Buffer>();

  constructor(options: BufferPoolOptions) {
    this.#maxFreeBytes = options.maxFreeBytes;
  }

  /** A buffer of exactly `size` bytes, with unspecified contents. */
  acquire(size: number): Buffer {
    if (size < MIN_POOLED_BYTES) return Buffer.allocUnsafe(size);
    const sizeClass = 32 - Math.clz32(size - 1);
    let slab = this.#free[sizeClass]?.pop();
    if (slab === undefined) slab = Buffer.allocUnsafeSlow(2 ** sizeClass);
    else this.#freeBytes -= slab.length;
    this.#slabs.set(slab.buffer, slab);
    return slab.subarray(0, size);
  }

  /**
   * Gives back a buffer from {@link acquire} once nothing reads it any more. Anything else
   * (a small buffer, a caller's own data) is ignored, so callers need not tell them apart.
   */
  release(buffer: Uint8Array): void {
    const slab = this.#slabs.get(buffer.buffer);
    if (slab === undefined || buffer.byteOffset !== 0) return;
    this.#slabs.delete(buffer.buffer);
    const sizeClass = 31 - Math.clz32(slab.length);
    if (this.#freeBytes + slab.length > this.#maxFreeBytes) return;
    (this.#free[sizeClass] ??= []).push(slab);
    this.#freeBytes += slab.length;
  }
}
