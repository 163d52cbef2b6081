/**
 * Seeded randomness for the stand-ins. Every draw is a pure function of (seed, key, n), so a story's injected
 * failures do not depend on which other stories run beside it: the same seed gives the same run, at any
 * concurrency.
 */

/** FNV-1a over a string, as an unsigned 32-bit integer. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, good-enough PRNG; returns a function yielding floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator seeded by the run's seed and a key such as `llm:story-2:script:3`. */
export function rngFor(seed: number, key: string): () => number {
  return mulberry32(hash32(`${seed}:${key}`));
}

/** Picks one element with a seeded generator. */
export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length) % items.length]!;
}
