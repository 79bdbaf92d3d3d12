/** A source of uniform numbers in [0, 1), the same sequence for the same seed. */
export type Random = () => number;

/**
 * mulberry32: a tiny 32-bit generator, plenty for deciding which requests fail, and reproducible
 * across runs and platforms, which Math.random is not.
 */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for when the caller gives none, reported back so that a failing run can be replayed. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296);
}
