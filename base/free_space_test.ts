import assert from "node:assert/strict";
import { freeSpace } from "./free_space.ts";

Deno.test("freeSpace of a folder not made yet is its nearest existing parent's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "p2pft-free-space-" });
  try {
    const here = await freeSpace(dir);
    const below = await freeSpace(`${dir}/not/made/yet`);
    assert.ok(here && below);
    assert.ok(here.bytes > 0 && here.blockBytes > 0);
    assert.equal(below.blockBytes, here.blockBytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
