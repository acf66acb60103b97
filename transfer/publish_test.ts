import * as assert from "node:assert/strict";
import { join } from "node:path";
import { TransferRefusedError } from "../base/mod.ts";
import { Publisher } from "./_publish.ts";
import { partialPath } from "./_partial_path.ts";

/** Writes `count` partials in `dir` and hands each to `publisher`. */
async function addPartials(publisher: Publisher, dir: string, count: number): Promise<string[]> {
  const targets: string[] = [];
  for (let index = 0; index < count; index++) {
    const target = join(dir, `f${index}`);
    const partial = partialPath(target);
    const handle = Deno.openSync(partial, { write: true, create: true, truncate: true });
    handle.writeSync(new TextEncoder().encode(`file ${index}`));
    await publisher.add({
      handle,
      partial,
      target,
      path: `f${index}`,
      size: `file ${index}`.length,
      mode: 0o640,
      mtimeMs: 1_000_000_000_000 + index,
    });
    targets.push(target);
  }
  return targets;
}

for (const syncFs of [true, false]) {
  const how = syncFs ? "sync -f batches" : "each file's fdatasync";
  Deno.test(`Publisher publishes every verified partial with its mode and mtime (${how})`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const publisher = new Publisher({ syncFs });
      // More than one batch of the file-system kind, so batches follow one another.
      const count = Publisher.BATCH_FILES * 3 + 5;
      const targets = await addPartials(publisher, dir, count);
      await publisher.drain();
      for (const [index, target] of targets.entries()) {
        assert.equal(Deno.readTextFileSync(target), `file ${index}`);
        const info = Deno.statSync(target);
        assert.equal(info.mode! & 0o777, 0o640);
        assert.equal(info.mtime!.getTime(), 1_000_000_000_000 + index);
      }
      assert.deepEqual([...Deno.readDirSync(dir)].length, count, "no partial is left");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("Publisher never replaces a name that appeared, and publishes the rest", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const publisher = new Publisher();
    Deno.writeTextFileSync(join(dir, "f1"), "someone else's");
    await addPartials(publisher, dir, 3).catch(() => {});
    await assert.rejects(() => publisher.drain(), TransferRefusedError);
    assert.equal(Deno.readTextFileSync(join(dir, "f1")), "someone else's");
    assert.equal(Deno.readTextFileSync(partialPath(join(dir, "f1"))), "file 1", "kept for resume");
    assert.equal(Deno.readTextFileSync(join(dir, "f0")), "file 0");
    assert.equal(Deno.readTextFileSync(join(dir, "f2")), "file 2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
