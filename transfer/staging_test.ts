import assert from "node:assert/strict";
import { join } from "node:path";
import { TransferRefusedError, UnsafePathError } from "../base/mod.ts";
import { publishFolders } from "./_staging.ts";
import {
  listTree,
  randomBytes,
  reason,
  tempDir,
  transferPair,
  value,
  withDirs,
} from "./_test_util.ts";

/** src/t: a, sub/b and ten small files, returned with their total size. */
async function makeTree(src: string): Promise<{ root: string; a: Uint8Array; total: number }> {
  const root = join(src, "t");
  await Deno.mkdir(join(root, "sub", "deeper"), { recursive: true });
  const a = randomBytes(300_000, 1);
  await Deno.writeFile(join(root, "a"), a);
  await Deno.writeFile(join(root, "sub", "b"), randomBytes(3_000_000, 2));
  for (let index = 0; index < 10; index++) {
    await Deno.writeFile(join(root, "sub", "deeper", `c${index}`), randomBytes(100 + index, index));
  }
  await Deno.chmod(join(root, "sub"), 0o750);
  return { root, a, total: 300_000 + 3_000_000 + 10 * 100 + 45 };
}

Deno.test("a new folder arrives through its staging folder; a stopped run's is resumed", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    const { root, total } = await makeTree(src);
    const controller = new AbortController();
    const first = await transferPair([root], dst, {
      signal,
      send: { signal: AbortSignal.any([signal, controller.signal]), streams: 1 },
      receive: {
        onProgress: (p) => {
          if (p.bytes >= 1_000_000) controller.abort(new Error("user pressed Ctrl-C"));
        },
      },
    });
    assert.match(String(reason(first.sent)), /Ctrl-C/);
    // Nothing under the final name: what arrived waits in the staging folder.
    const left = await listTree(dst);
    assert.deepEqual(left.filter((e) => !e.path.startsWith(".t.p2pft-partial")), []);
    assert.ok(left.some((e) => e.path === ".t.p2pft-partial/a" && e.size === 300_000));
    const kept = left.filter((e) => e.kind === "file").reduce((sum, e) => sum + e.size, 0);
    assert.ok(kept >= 300_000, `kept ${kept} bytes`);

    const again = await transferPair([root], dst, { signal });
    const report = value(again.received);
    assert.equal(value(again.sent).sha256, report.sha256);
    assert.ok(report.resumedFiles >= 2, `resumed ${report.resumedFiles}`);
    assert.equal(report.bytesTransferred, total - kept);
    assert.deepEqual(await listTree(join(dst, "t")), await listTree(root));
    assert.deepEqual((await listTree(dst)).filter((e) => !e.path.startsWith("t")), []);
  });
});

Deno.test("a staging folder's file that is not a prefix of the offered one is sent again", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const { root, a, total } = await makeTree(src);
    await Deno.mkdir(join(dst, ".t.p2pft-partial"));
    await Deno.writeFile(join(dst, ".t.p2pft-partial", "a"), randomBytes(1000, 99));
    const { received } = await transferPair([root], dst, { signal });
    assert.equal(value(received).bytesTransferred, total);
    assert.deepEqual(await Deno.readFile(join(dst, "t", "a")), a);
    assert.deepEqual(await listTree(join(dst, "t")), await listTree(root));
  });
});

Deno.test("what a staging folder holds that this run does not write is never published", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const { root } = await makeTree(src);
    const staging = join(dst, ".t.p2pft-partial");
    await Deno.mkdir(join(staging, "sub", "gone"), { recursive: true });
    await Deno.writeTextFile(join(staging, "sub", "gone", "x"), "no longer offered");
    await Deno.writeTextFile(join(staging, "removed.txt"), "half of a file");
    const { received } = await transferPair([root], dst, { signal });
    value(received);
    assert.deepEqual(await listTree(join(dst, "t")), await listTree(root));
  });
});

Deno.test("a symbolic link at a staging folder's name is refused before anything is written", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const { root } = await makeTree(src);
    await using elsewhere = await tempDir();
    await Deno.symlink(elsewhere.path, join(dst, ".t.p2pft-partial"));
    const { received } = await transferPair([root], dst, { signal });
    assert.ok(reason(received) instanceof UnsafePathError, String(reason(received)));
    assert.deepEqual(await listTree(elsewhere.path), []);
  });
});

Deno.test("publishFolders never replaces a name that appeared, empty or not", async () => {
  await using dir = await tempDir();
  const folder = (name: string) => ({
    index: 0,
    path: name,
    staging: join(dir.path, `.${name}.p2pft-partial`),
    target: join(dir.path, name),
  });
  for (const name of ["empty", "full", "file", "free"]) {
    Deno.mkdirSync(folder(name).staging);
    Deno.writeTextFileSync(join(folder(name).staging, "x"), "ours");
  }
  Deno.mkdirSync(join(dir.path, "empty"));
  Deno.mkdirSync(join(dir.path, "full"));
  Deno.writeTextFileSync(join(dir.path, "full", "y"), "theirs");
  Deno.writeTextFileSync(join(dir.path, "file"), "theirs");
  for (const name of ["empty", "full", "file"]) {
    assert.throws(() => publishFolders([folder(name)]), TransferRefusedError, name);
    assert.equal(Deno.readTextFileSync(join(folder(name).staging, "x")), "ours", "kept");
  }
  assert.deepEqual([...Deno.readDirSync(join(dir.path, "empty"))], []);
  assert.equal(Deno.readTextFileSync(join(dir.path, "full", "y")), "theirs");
  assert.equal(Deno.readTextFileSync(join(dir.path, "file")), "theirs");
  publishFolders([folder("free")]);
  assert.equal(Deno.readTextFileSync(join(dir.path, "free", "x")), "ours");
  assert.ok(!(await listTree(dir.path)).some((e) => e.path === ".free.p2pft-partial"));
});
