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
