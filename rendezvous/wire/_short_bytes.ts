/**
 * Copies of short values (client ids, tokens, cookies: 16 bytes) cut from a
 * shared slab, one after another: a copy costs a view, not a buffer of its
 * own. In Deno every fresh `Uint8Array`, however small, gets an ArrayBuffer
 * of its own from the runtime (measured on the 2-core host, 2026-12-07:
 * `new Uint8Array(16)` 0.44 µs, `slice` of 16 bytes 0.79 µs, `subarray`
 * 0.07 µs), and the server makes four such values per request (the decoded
 * client id and cookie, the answer's token and peer id). A copy keeps its
 * slab alive while it is held, so a slab is small and longer values (the
 * fingerprints a room keeps) get buffers of their own. Pure.
 */

/** Values up to this many bytes share slabs. */
export const MAX_SHORT = 16;
const SLAB_SIZE = 1024;
let slab = new Uint8Array(SLAB_SIZE);
/** Where the next copy starts in `slab`. */
let used = 0;

/** Room for `length` bytes (at most {@link MAX_SHORT}): a view of the slab, its own bytes. */
function take(length: number): Uint8Array {
  if (SLAB_SIZE - used < length) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const view = slab.subarray(used, used + length);
  used += length;
  return view;
}

/** A copy of `data[start..end)`: a view of a slab when short, else a buffer of its own. */
export function copyBytes(data: Uint8Array, start: number, end: number): Uint8Array {
  if (end - start > MAX_SHORT) return data.slice(start, end);
  const out = take(end - start);
  for (let i = start; i < end; i++) out[i - start] = data[i];
  return out;
}

/** The bytes of lowercase hex text (as `toHex` writes it): a view of a slab when short. */
export function shortFromHex(hex: string): Uint8Array {
  const length = hex.length >> 1;
  const out = length > MAX_SHORT ? new Uint8Array(length) : take(length);
  for (let i = 0; i < out.length; i++) {
    out[i] = (NIBBLE[hex.charCodeAt(2 * i) & 0x7f] << 4) | NIBBLE[hex.charCodeAt(2 * i + 1) & 0x7f];
  }
  return out;
}

/** The value of each lowercase hex digit, by char code. */
const NIBBLE = new Uint8Array(128);
for (let digit = 0; digit < 16; digit++) NIBBLE["0123456789abcdef".charCodeAt(digit)] = digit;
