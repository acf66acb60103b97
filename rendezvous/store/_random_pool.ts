/**
 * Random bytes for room tokens (one per pairing), out of a pool refilled 4 KiB
 * at a time: one call into the runtime per 256 tokens.
 */
const randomPool = { bytes: new Uint8Array(4096), used: 4096 };

/** Fills `bytes` from the pool and returns it. */
export function pooledRandom(bytes: Uint8Array): Uint8Array {
  if (randomPool.used + bytes.length > randomPool.bytes.length) {
    crypto.getRandomValues(randomPool.bytes);
    randomPool.used = 0;
  }
  bytes.set(randomPool.bytes.subarray(randomPool.used, randomPool.used + bytes.length));
  randomPool.used += bytes.length;
  return bytes;
}
