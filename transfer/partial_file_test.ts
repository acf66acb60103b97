import assert from "node:assert/strict";
import { PartialTarget } from "./_partial_file.ts";

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
