import assert from "node:assert/strict";
import { join } from "node:path";
import {
  listTree,
  randomBytes,
  sha256Hex,
  tempDir,
  transferPair,
  value,
  withDirs,
  withTimeout,
} from "./_test_util.ts";

const SIZE = 4 * 1024 * 1024 + 777;

async function setup(src: string) {
  const bytes = randomBytes(SIZE, 11);
  const file = join(src, "data.bin");
  await Deno.writeFile(file, bytes);
  return { bytes, file };
}

Deno.test("receiveFiles resumes from a matching partial and sends only the rest", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const { bytes, file } = await setup(src);
    const half = Math.floor(SIZE / 2);
    await Deno.writeFile(join(dst, "data.bin.p2pft-partial"), bytes.subarray(0, half));
    const { sent, received } = await transferPair([file], dst, { signal });
    for (const report of [value(sent), value(received)]) {
      assert.equal(report.bytesTransferred, SIZE - half);
      assert.equal(report.resumedFiles, 1);
      assert.equal(report.sha256, sha256Hex(bytes));
    }
    assert.deepEqual(await Deno.readFile(join(dst, "data.bin")), bytes);
    assert.deepEqual((await listTree(dst)).map((e) => e.path), ["data.bin"]);
  });
});

Deno.test("receiveFiles restarts cleanly when the source changed since the partial", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const { bytes, file } = await setup(src);
    await Deno.writeFile(join(dst, "data.bin.p2pft-partial"), randomBytes(SIZE / 2, 99));
    const { sent, received } = await transferPair([file], dst, { signal });
    assert.equal(value(sent).bytesTransferred, SIZE);
    assert.equal(value(received).resumedFiles, 0);
    assert.deepEqual(await Deno.readFile(join(dst, "data.bin")), bytes);
    assert.deepEqual((await listTree(dst)).map((e) => e.path), ["data.bin"]);
  });
});

Deno.test("receiveFiles restarts when the partial is longer than the file", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const { bytes, file } = await setup(src);
    await Deno.writeFile(join(dst, "data.bin.p2pft-partial"), randomBytes(SIZE + 10, 5));
    const { sent } = await transferPair([file], dst, { signal });
    assert.equal(value(sent).bytesTransferred, SIZE);
    assert.deepEqual(await Deno.readFile(join(dst, "data.bin")), bytes);
  });
});

Deno.test("receiveFiles skips an identical existing file", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const { bytes, file } = await setup(src);
    await Deno.writeFile(join(dst, "data.bin"), bytes);
    const { sent, received } = await transferPair([file], dst, { signal });
    for (const report of [value(sent), value(received)]) {
      assert.equal(report.bytesTransferred, 0);
      assert.equal(report.skippedFiles, 1);
      assert.equal(report.sha256, sha256Hex(bytes));
    }
  });
});

Deno.test("receiveFiles never overwrites a different existing file: beside it, or left out", async () => {
  await withTimeout(10_000, async (signal) => {
    await using src = await tempDir();
    const { file, bytes: data } = await setup(src.path);
    // Same size (the sender compares hashes), another size, and a folder of that name.
    const originals = [randomBytes(SIZE, 3), randomBytes(10, 3), undefined];
    for (const original of originals) {
      await using dst = await tempDir();
      const mine = join(dst.path, "data.bin");
      if (original) await Deno.writeFile(mine, original);
      else await Deno.mkdir(mine);
      const beside = await transferPair([file], dst.path, { signal });
      assert.deepEqual(value(beside.received).renamed, [{ path: "data.bin", as: "data (1).bin" }]);
      assert.deepEqual(await Deno.readFile(join(dst.path, "data (1).bin")), data);
      const kept = await transferPair([file], dst.path, {
        signal,
        receive: { onExisting: "skip" },
      });
      for (const report of [value(kept.sent), value(kept.received)]) {
        assert.deepEqual(report.notWritten.map((item) => item.path), ["data.bin"]);
      }
      if (original) assert.deepEqual(await Deno.readFile(mine), original);
      assert.deepEqual((await listTree(dst.path)).map((e) => e.path), ["data (1).bin", "data.bin"]);
    }
  });
});

Deno.test("receiveFiles resumes several files in a tree and skips the finished ones", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const root = join(src, "t");
    await Deno.mkdir(join(root, "sub"), { recursive: true });
    const a = randomBytes(300_000, 1);
    const b = randomBytes(200_000, 2);
    await Deno.writeFile(join(root, "a"), a);
    await Deno.writeFile(join(root, "sub", "b"), b);
    await Deno.mkdir(join(dst, "t", "sub"), { recursive: true });
    await Deno.writeFile(join(dst, "t", "a"), a);
    await Deno.writeFile(join(dst, "t", "sub", "b.p2pft-partial"), b.subarray(0, 50_000));
    const { sent, received } = await transferPair([root], dst, { signal });
    const report = value(received);
    assert.equal(report.skippedFiles, 1);
    assert.equal(report.resumedFiles, 1);
    assert.equal(report.bytesTransferred, 150_000);
    assert.equal(value(sent).sha256, report.sha256);
    assert.deepEqual(await listTree(join(dst, "t")), await listTree(root));
  });
});
