import assert from "node:assert/strict";
import { join } from "node:path";
import { SourceChangedError } from "../base/mod.ts";
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

/** `change` on the first call only: the file changes once, while it is read. */
function once(change: () => void): () => void {
  let done = false;
  return () => {
    if (!done) change();
    done = true;
  };
}

Deno.test("a file appended to while it is sent fails: the receiver never takes more than it accepted", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const source = join(src, "live.log");
    await Deno.writeFile(source, randomBytes(SIZE, 1));
    const { sent, received } = await transferPair([source], dst, {
      signal,
      send: { onProgress: once(() => append(source, randomBytes(1000, 2))) },
    });
    assert.ok(reason(sent) instanceof SourceChangedError, String(reason(sent)));
    assert.match(
      String(reason(received)),
      new RegExp(
        `live\\.log: its size changed from ${SIZE} to ${SIZE + 1000} bytes after it was offered`,
      ),
    );
    const partial = (await listTree(dst)).find((entry) => entry.path === "live.log.p2pft-partial");
    assert.ok(!partial || partial.size! <= SIZE, JSON.stringify(partial));
    assert.ok(!(await listTree(dst)).some((entry) => entry.path === "live.log"));
  });
});

Deno.test("a file rewritten in place while it is sent is sent again at the same size", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const source = join(src, "live.bin");
    await Deno.writeFile(source, randomBytes(SIZE, 1));
    const { sent, received } = await transferPair([source], dst, {
      signal,
      send: { onProgress: once(() => rewrite(source, randomBytes(1000, 2))) },
    });
    const now = await Deno.readFile(source);
    assert.deepEqual(value(sent).resent, ["live.bin"]);
    assert.deepEqual(value(received).resent, ["live.bin"]);
    assert.deepEqual([value(sent).changed, value(received).changed], [[], []]);
    assert.deepEqual(await Deno.readFile(join(dst, "live.bin")), now);
  });
});

/** Overwrites the start of `path` in place (its size stays). */
function rewrite(path: string, bytes: Uint8Array) {
  using file = Deno.openSync(path, { write: true });
  file.writeSync(bytes);
}

Deno.test("a file that keeps changing fails on both sides and nothing is published", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const source = join(src, "live.log");
    await Deno.writeFile(source, randomBytes(SIZE, 1));
    const { sent, received } = await transferPair([source], dst, {
      signal,
      send: { onProgress: () => rewrite(source, randomBytes(10, 3)) },
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

Deno.test("a file replaced between the scan and the send is sent as it is now, at the same size", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const source = join(src, "swapped.bin");
    await Deno.writeFile(source, randomBytes(1000, 1));
    const replacement = randomBytes(1000, 4);
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

Deno.test("a file that grew after the offer fails and is not published, unless allowed", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const source = join(src, "tiny.txt");
    await Deno.writeFile(source, randomBytes(5, 1));
    const grow = () => Deno.writeFile(source, randomBytes(SIZE, 4), { append: true });
    const refused = await transferPair([source], dst, { signal, beforeSend: grow });
    assert.match(
      String(reason(refused.sent)),
      /size changed from 5 to \d+ bytes after it was offered/,
    );
    assert.ok(!(await listTree(dst)).some((entry) => entry.path === "tiny.txt"));
    await Deno.writeFile(source, randomBytes(5, 1));
    const allowed = await transferPair([source], join(dst, "again"), {
      signal,
      beforeSend: grow,
      send: { allowChanging: true },
    });
    assert.deepEqual(value(allowed.received).changed, ["tiny.txt"]);
    assert.deepEqual(await Deno.readFile(join(dst, "again", "tiny.txt")), randomBytes(5, 1));
  });
});

Deno.test("allowChanging sends a big file cut short while read at its offered size, the rest as zeros", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const source = join(src, "cut.bin");
    // Reads run up to 3 segments ahead of the one hashed, so what they read before the cut is
    // sent as read; the last MiB of 8 is read after it.
    const size = 8 * 1024 * 1024 + 5;
    await Deno.writeFile(source, randomBytes(size, 5));
    const { sent, received } = await transferPair([source], dst, {
      signal,
      send: { allowChanging: true, onProgress: once(() => Deno.truncateSync(source, 1024 * 1024)) },
    });
    assert.deepEqual(value(sent).changed, ["cut.bin"]);
    assert.deepEqual(value(received).changed, ["cut.bin"]);
    const arrived = await Deno.readFile(join(dst, "cut.bin"));
    assert.equal(arrived.length, size);
    assert.ok(arrived.subarray(size - 1024 * 1024).every((byte) => byte === 0));
    assert.equal(sha256Hex(arrived), value(received).sha256);
    assert.equal(value(sent).sha256, value(received).sha256);
  });
});
