import assert from "node:assert/strict";
import { join } from "node:path";
import { SourceChangedError } from "../errors.ts";
import {
  listTree,
  randomBytes,
  reason,
  sha256Hex,
  transferPair,
  value,
  withDirs,
} from "./_test_util.ts";

const SIZE = 3 * 1024 * 1024 + 5;

/** Appends `extra` to `path` (synchronously, so it lands between two reads of the sender). */
function append(path: string, extra: Uint8Array) {
  Deno.writeFileSync(path, extra, { append: true });
}

Deno.test("a file appended to while it is sent is sent again and arrives as it is now", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const source = join(src, "live.log");
    await Deno.writeFile(source, randomBytes(SIZE, 1));
    let appended = false;
    const { sent, received } = await transferPair([source], dst, {
      signal,
      send: {
        onProgress: () => {
          if (appended) return;
          appended = true;
          append(source, randomBytes(1000, 2));
        },
      },
    });
    const now = await Deno.readFile(source);
    assert.equal(now.length, SIZE + 1000);
    assert.deepEqual(value(sent).resent, ["live.log"]);
    assert.deepEqual(value(received).resent, ["live.log"]);
    assert.deepEqual([value(sent).changed, value(received).changed], [[], []]);
    assert.equal(value(received).sha256, sha256Hex(now));
    assert.deepEqual(await Deno.readFile(join(dst, "live.log")), now);
  });
});

Deno.test("a file that keeps changing fails on both sides and nothing is published", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const source = join(src, "live.log");
    await Deno.writeFile(source, randomBytes(SIZE, 1));
    const { sent, received } = await transferPair([source], dst, {
      signal,
      send: { onProgress: () => append(source, randomBytes(10, 3)) },
    });
    assert.ok(reason(sent) instanceof SourceChangedError, String(reason(sent)));
    assert.match(String(reason(received)), /live\.log: it changed while being read, twice/);
    assert.ok(!(await listTree(dst)).some((entry) => entry.path === "live.log"));
  });
});

Deno.test("allowChanging sends a file that keeps changing as read and both sides list it", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const source = join(src, "live.log");
    await Deno.writeFile(source, randomBytes(SIZE, 1));
    const { sent, received } = await transferPair([source], dst, {
      signal,
      send: { allowChanging: true, onProgress: () => append(source, randomBytes(10, 3)) },
    });
    assert.deepEqual(value(sent).changed, ["live.log"]);
    assert.deepEqual(value(received).changed, ["live.log"]);
    assert.equal(value(sent).sha256, value(received).sha256);
    assert.equal(sha256Hex(await Deno.readFile(join(dst, "live.log"))), value(sent).sha256);
  });
});

Deno.test("a file replaced between the scan and the send is sent as it is now", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const source = join(src, "swapped.bin");
    await Deno.writeFile(source, randomBytes(1000, 1));
    const replacement = randomBytes(2000, 4);
    const { sent, received } = await transferPair([source], dst, {
      signal,
      beforeSend: async () => {
        await Deno.writeFile(`${source}.new`, replacement);
        await Deno.rename(`${source}.new`, source);
      },
    });
    assert.deepEqual(value(sent).resent, ["swapped.bin"]);
    assert.deepEqual(await Deno.readFile(join(dst, "swapped.bin")), replacement);
    assert.equal(value(received).sha256, sha256Hex(replacement));
  });
});
