/** File helpers shared by the end-to-end tests, the demo and the benchmarks. */
import { createHash } from "node:crypto";
import { writeAll } from "../base/mod.ts";

/** Writes `size` random bytes to `path` in 1 MiB blocks (memory stays flat). */
export async function makeRandomFile(path: string, size: number): Promise<void> {
  await using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const block = new Uint8Array(1024 * 1024);
  for (let written = 0; written < size; written += block.length) {
    for (let offset = 0; offset < block.length; offset += 65536) {
      crypto.getRandomValues(block.subarray(offset, offset + 65536));
    }
    await writeAll(file, block.subarray(0, Math.min(block.length, size - written)));
  }
}

/** SHA-256 hex of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk); // the stream closes the file
  return hash.digest("hex");
}
