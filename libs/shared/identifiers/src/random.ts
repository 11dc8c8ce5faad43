/** A source of uniformly distributed numbers in [0, 1), such as `Math.random` or a seeded generator in tests. */
export type RandomSource = () => number;

/** An integer in [0, bound). Guards against sources that return exactly 1 or slightly out of range. */
export function randomBelow(random: RandomSource, bound: number): number {
  const value = Math.floor(random() * bound);
  if (!Number.isFinite(value) || value < 0) return 0;
  return Math.min(value, bound - 1);
}

/** `length` characters drawn independently from `alphabet`. */
export function randomString(random: RandomSource, alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet.charAt(randomBelow(random, alphabet.length));
  return out;
}

/**
 * A deterministic source (mulberry32): the same seed gives the same sequence, so generated data and failing
 * property runs can be reproduced.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
