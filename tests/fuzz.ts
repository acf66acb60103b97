/** What the decoder fuzz tests share. */
import { concatBytes } from "../base/mod.ts";

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

/** One edit of a format's own, in place or into a new array. */
export type Mutation = (
  data: Uint8Array<ArrayBuffer>,
  rand: (limit: number) => number,
) => Uint8Array<ArrayBuffer>;

/** What {@link mutate} needs to know of a format. */
export interface MutationRules {
  /** Byte values worth writing anywhere (a random byte is written too). */
  boundaries: readonly number[];
  /** Longest slice one edit repeats at the end. */
  maxRepeat: number;
  /** The decoder's size limit: now and then the data grows past it. */
  limit: number;
  /** The format's own two edits. */
  own: readonly [Mutation, Mutation];
}

/**
 * A copy of `base` with one to four edits: a flipped bit, a boundary byte, a
 * cut, a repeated slice, growth past the limit, or one of the format's own.
 */
export function mutate(
  base: Uint8Array,
  rand: (limit: number) => number,
  rules: MutationRules,
): Uint8Array {
  let data = base.slice();
  const edits = 1 + rand(4);
  for (let e = 0; e < edits; e++) {
    switch (rand(7)) {
      case 0: // flip a bit
        if (data.length) data[rand(data.length)] ^= 1 << rand(8);
        break;
      case 1: // set a byte to a boundary or random value
        if (data.length) {
          data[rand(data.length)] =
            [...rules.boundaries, rand(256)][rand(rules.boundaries.length + 1)];
        }
        break;
      case 2: // truncate
        data = data.subarray(0, rand(data.length + 1));
        break;
      case 3:
        data = rules.own[0](data, rand);
        break;
      case 4: { // duplicate a slice (repeats records or fields)
        const start = rand(data.length + 1);
        data = concatBytes([data, data.slice(start, start + rand(rules.maxRepeat))]);
        break;
      }
      case 5:
        data = rules.own[1](data, rand);
        break;
      default: // grow past the limit now and then
        if (rand(50) === 0) {
          const grown = new Uint8Array(rules.limit + 1 + rand(100));
          grown.set(data.subarray(0, grown.length));
          data = grown;
        }
    }
  }
  return data;
}

/** Up to `maxLength - 1` random bytes. */
export function randomInput(rand: (limit: number) => number, maxLength: number): Uint8Array {
  const input = new Uint8Array(rand(maxLength));
  for (let j = 0; j < input.length; j++) input[j] = rand(256);
  return input;
}
