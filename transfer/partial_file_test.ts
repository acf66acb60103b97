import assert from "node:assert/strict";
import { PartialTarget } from "./_partial_file.ts";
import { withTimeout } from "./_test_util.ts";

function patterned(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 7 + seed + (index >> 9)) & 0xff);
}

/** A temporary file opened for writing, removed after. */
async function withPartial(fn: (path: string, handle: Deno.FsFile) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/x.p2pft-partial`;
  try {
    using handle = await Deno.open(path, { write: true, create: true });
    await fn(path, handle);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("PartialTarget puts writes in flight at once each at its own place, after a resumed prefix", async () => {
  await withPartial(async (path, handle) => {
    const prefix = patterned(1000, 1);
    await handle.write(prefix);
    const target = new PartialTarget(handle, path, prefix.length);
    // Big writes (thread pool, several at once) and small ones (sync) mixed, as a file's chunks.
    const chunks = [256 * 1024, 300 * 1024, 17, 512 * 1024, 1, 200 * 1024, 129 * 1024].map((
      length,
      index,
    ) => patterned(length, index + 2));
    const writing: Promise<void>[] = [];
    for (const chunk of chunks) {
      if (writing.length === target.writesInFlight) await writing.shift();
      writing.push(target.write(chunk));
    }
    await Promise.all(writing);
    await target.settled();
    const expected = new Uint8Array(prefix.length + chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const part of [prefix, ...chunks]) {
      expected.set(part, at);
      at += part.length;
    }
    assert.deepEqual(await Deno.readFile(path), expected);
  });
});

Deno.test("PartialTarget starts again from byte 0 when the file is sent again", async () => {
  await withPartial(async (path, handle) => {
    const target = new PartialTarget(handle, path, 0);
    await Promise.all([target.write(patterned(256 * 1024, 1)), target.write(patterned(5, 2))]);
    await target.restart();
    const again = patterned(300 * 1024, 3);
    await target.write(again);
    await target.settled();
    assert.deepEqual(await Deno.readFile(path), again);
  });
});

/** Bytes of `path` in the page cache, by util-linux's fincore; null where it is not installed. */
async function residentBytes(path: string, signal: AbortSignal): Promise<number | null> {
  try {
    const { success, stdout } = await new Deno.Command("fincore", {
      args: ["--bytes", "--noheadings", "--output", "RES", path],
      stdin: "null",
      stderr: "null",
      signal,
    }).output();
    return success ? Number(new TextDecoder().decode(stdout).trim()) : null;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

Deno.test({
  name: "PartialTarget drops what its early syncs wrote out from the page cache (Linux)",
  ignore: Deno.build.os !== "linux",
  fn: () =>
    withTimeout(60_000, async (signal) => {
      await withPartial(async (path, handle) => {
        // Three early syncs' worth: at least the first one's 64 MiB, synced and dropped,
        // leaves the cache before the writes settle. Nothing else reads the file meanwhile.
        const chunk = patterned(1024 * 1024, 5);
        const size = 3 * 64 * chunk.length + chunk.length;
        const target = new PartialTarget(handle, path, 0);
        const writing: Promise<void>[] = [];
        for (let at = 0; at < size; at += chunk.length) {
          if (writing.length === target.writesInFlight) await writing.shift();
          writing.push(target.write(chunk));
        }
        await Promise.all(writing);
        await target.settled();
        assert.equal((await Deno.stat(path)).size, size);
        const resident = await residentBytes(path, signal);
        if (resident === null) return; // No fincore here: nothing to look with.
        assert.ok(
          resident <= size - 64 * chunk.length,
          `${resident} of ${size} bytes still cached`,
        );
      });
    }),
});
