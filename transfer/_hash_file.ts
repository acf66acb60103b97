import { createHash, type Hash } from "node:crypto";
import { IntegrityError } from "../base/mod.ts";

const CHUNK = 1024 * 1024;

/**
 * Streams the first `length` bytes of `path` into a new SHA-256 and returns
 * the hash object (still open, so the caller can continue it or copy it).
 */
export async function hashFilePrefix(
  path: string,
  length: number,
  options: { signal?: AbortSignal; label?: string } = {},
): Promise<Hash> {
  const hash = createHash("sha256");
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
