/** What the decoder fuzz tests share. */

/**
 * A small deterministic PRNG (xorshift32), so a failure can be replayed from
 * its seed: each call returns an integer in `0..limit-1`.
 */
export function prng(seed: number): (limit: number) => number {
  let state = seed >>> 0 || 1;
  return (limit: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % limit;
  };
}
