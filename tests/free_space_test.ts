/**
 * An offer the receiver's output folder cannot hold is refused before the prompt and before any
 * byte moves, on a real small file system (a tmpfs: needs root to mount, skipped otherwise).
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { listDir, world } from "./world.ts";
import { makeRandomFile } from "../scripts/files.ts";

const MIB = 1024 * 1024;
const ROOT = Deno.uid() === 0;

/** Runs `fn` on a `size` tmpfs mounted on `dir` (made), unmounted and removed after. */
async function onTmpfs(dir: string, size: string, fn: () => Promise<void>): Promise<void> {
  await Deno.mkdir(dir);
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
  }).output();
  assert.ok(mount.success, new TextDecoder().decode(mount.stderr));
  try {
    await fn();
  } finally {
    await new Deno.Command("umount", { args: [dir] }).output();
    await Deno.remove(dir, { recursive: true });
  }
}

boundedTest(
  "an offer larger than the output folder's free space is refused before the prompt, and the sender is told why" +
    (ROOT ? "" : " (skipped: mounting a tmpfs needs root)"),
  async (signal) => {
    await using w = await world(signal);
    const out = `${w.dir}/small`;
    await onTmpfs(out, "4m", async () => {
      // What an interrupted run left counts as written: 3 MiB of 6 still to come, 1 MiB free.
      await makeRandomFile(`${w.dir}/big.bin`, 6 * MIB);
      const held = (await Deno.readFile(`${w.dir}/big.bin`)).subarray(0, 3 * MIB);
      await Deno.writeFile(`${out}/big.bin.p2pft-partial`, held);
      const sender = w.send([`${w.dir}/big.bin`]);
      const { code } = await sender.next("code", signal);
      const receiver = w.receive(String(code), [], { out });
      const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
      // Before: the data began to move and failed part-way ("No space left in ...").
      assert.equal(received.code, 1, received.stderr);
      assert.equal(
        received.stderr,
        `error: Not enough free space in ${out}: the offer needs 3.0 MiB more, 1.0 MiB is free; ` +
          "free some space or choose another folder with --out\n",
      );
      assert.ok(!received.events.some((event) => event.type === "offer"), "asked nothing");
      assert.equal(sent.code, 1, sent.stderr);
      assert.equal(
        sent.stderr,
        "error: The receiver stopped: Not enough free space in the output folder: " +
          "the offer needs 3.0 MiB more, 1.0 MiB is free\n",
      );
      assert.deepEqual(await listDir(out), ["big.bin.p2pft-partial"]);
      assert.equal((await Deno.stat(`${out}/big.bin.p2pft-partial`)).size, 3 * MIB);
    });
  },
  { timeoutMs: 120_000, sanitizeResources: false, ignore: !ROOT },
);

boundedTest(
  "an offer of less than 1 MiB is not checked against the free space: on a full disk its write fails with the disk-full error" +
    (ROOT ? "" : " (skipped: mounting a tmpfs needs root)"),
  async (signal) => {
    await using w = await world(signal);
    const out = `${w.dir}/small`;
    await onTmpfs(out, "1m", async () => {
      // The tmpfs filled to its last block: 64 KiB fit nowhere.
      await makeRandomFile(`${w.dir}/small.bin`, 64 * 1024);
      await new Deno.Command("dd", { args: ["if=/dev/zero", `of=${out}/filler`, "bs=4k"] })
        .output();
      const sender = w.send([`${w.dir}/small.bin`]);
      const { code } = await sender.next("code", signal);
      const receiver = w.receive(String(code), [], { out });
      const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
      assert.equal(received.code, 1, received.stderr);
      assert.match(received.stderr, /^error: Disk full: .*small\.bin\.p2pft-partial kept: free /);
      assert.equal(sent.code, 1, sent.stderr);
      assert.match(sent.stderr, /^error: The receiver stopped: No space left in the output folder/);
    });
  },
  { timeoutMs: 120_000, sanitizeResources: false, ignore: !ROOT },
);
