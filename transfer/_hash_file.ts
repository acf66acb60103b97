import { IntegrityError } from "../base/mod.ts";
import { newSha256, type Sha256 } from "./_sha256.ts";

const CHUNK = 1024 * 1024;

/**
 * Streams the first `length` bytes of `path` into a new SHA-256 and returns
 * the hash object (still open, so the caller can continue it or copy it). `size`: the
 * whole file's, over which the hash goes on (it picks the hash; default `length`).
 */
export async function hashFilePrefix(
  path: string,
  length: number,
  options: { signal?: AbortSignal; label?: string; size?: number } = {},
): Promise<Sha256> {
  const hash = await newSha256(options.size ?? length);
  if (length === 0) return hash;
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(Math.min(CHUNK, length));
  let left = length;
  while (left > 0) {
    options.signal?.throwIfAborted();
    const n = await file.read(buffer.subarray(0, Math.min(left, buffer.length)));
    if (n === null) {
      throw new IntegrityError(
        `Cannot hash ${options.label ?? path}: file ended after ${
          length - left
        } of ${length} bytes`,
      );
    }
    hash.update(buffer.subarray(0, n));
    left -= n;
  }
  return hash;
}
