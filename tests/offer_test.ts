/**
 * What the receiver is offered and what it accepted, through the real CLI
 * (issue #21): names before accepting, an offer that is a limit, odd files
 * that do not stop a folder, size-0 pseudo-files, existing names, symlinks.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { bothSucceed, listDir, sendToPrompt, type World, world } from "./world.ts";

function e2e(name: string, fn: (signal: AbortSignal) => Promise<void>, timeoutMs = 60_000) {
  boundedTest(name, fn, { timeoutMs, sanitizeResources: false });
}

/** `send - --name NAME` with `text` on its stdin; its code. */
async function sendStream(w: World, name: string, text: string, signal: AbortSignal) {
  const sender = w.send(["-"], ["--name", name], { stdin: "piped" });
  const input = sender.stdin!.getWriter();
  await input.write(new TextEncoder().encode(text));
  await input.close();
  const { code } = await sender.next("code", signal);
  return { sender, code };
}

e2e(
  "the prompt for a stream says the name it is saved as, beside one already here",
  async (signal) => {
    await using w = await world(signal);
    await Deno.mkdir(`${w.dir}/in`);
    await Deno.writeTextFile(`${w.dir}/in/notes.txt`, "my old notes");
    const { sender, code } = await sendStream(w, "notes.txt", "piped notes", signal);
    const receiver = w.receiveOnTerminal(String(code), `${w.dir}/in`);
    // The question has no newline: the line before it says it is about to be asked.
    await receiver.until((event) => String(event.line ?? "").startsWith("Connected"), signal);
    const answer = receiver.stdin!.getWriter();
    await answer.write(new TextEncoder().encode("y\n"));
    answer.releaseLock();
    const [, received] = await bothSucceed(sender, receiver);
    assert.match(
      received.stdout,
      /Receive notes\.txt, a stream of unknown size, saved as notes \(1\)\.txt \(notes\.txt is already here\) from .*\? \[y\/N\]/,
    );
    assert.equal(await Deno.readTextFile(`${w.dir}/in/notes (1).txt`), "piped notes");
    assert.equal(await Deno.readTextFile(`${w.dir}/in/notes.txt`), "my old notes");
  },
);

e2e(
  "a tree's offer event is bounded: top-level counts, the first entries, the rest in manifest events",
  async (signal) => {
    await using w = await world(signal);
    const tree = `${w.dir}/tree`;
    await Deno.mkdir(`${tree}/sub`, { recursive: true });
    for (let index = 0; index < 1500; index++) {
      await Deno.writeTextFile(`${tree}/sub/f${String(index).padStart(4, "0")}.txt`, "x");
    }
    await Deno.writeTextFile(`${w.dir}/readme.md`, "read me");
    await Deno.mkdir(`${w.dir}/in`);
    const { sent, received } = await w.transfer([tree, `${w.dir}/readme.md`], { signal });
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(received.code, 0, received.stderr);
    const offer = received.events.find((event) => event.type === "offer")!;
    assert.deepEqual(offer.top, [
      { path: "tree", kind: "directory", files: 1500, bytes: 1500 },
      { path: "readme.md", kind: "file", files: 1, bytes: 7 },
    ]);
    const entries = offer.entries as Array<{ path: string }>;
    assert.equal(entries.length, 100);
    assert.deepEqual(entries.slice(0, 3), [
      { path: "tree", kind: "directory", size: 0 },
      { path: "tree/sub", kind: "directory", size: 0 },
      { path: "tree/sub/f0000.txt", kind: "file", size: 1 },
    ]);
    assert.equal(offer.more, 1503 - 100);
    const manifest = received.events.filter((event) => event.type === "manifest");
    assert.deepEqual(manifest.map((event) => event.from), [100, 1100]);
    const rest = manifest.flatMap((event) => event.entries as Array<{ path: string }>);
    assert.equal(rest.length, 1403);
    assert.equal(rest.at(-1)!.path, "readme.md");
    const lines = received.stdout.split("\n");
    assert.ok(lines.every((line) => line.length < 200_000), "no giant line");
    const done = received.events.find((event) => event.type === "done")!;
    assert.equal(done.folder, `${w.dir}/in`);
    assert.deepEqual(done.saved, ["tree/", "readme.md"]);
  },
);

e2e(
  "an offer is a limit: a file that grew after the offer fails the send, or arrives as offered with --allow-changing",
  async (signal) => {
    await using w = await world(signal);
    const source = `${w.dir}/tiny.txt`;
    await Deno.mkdir(`${w.dir}/in`);
    for (const allow of [false, true]) {
      await Deno.writeTextFile(source, "hello");
      const sender = w.send([source], allow ? ["--allow-changing"] : []);
      const { code } = await sender.next("code", signal);
      await Deno.writeFile(source, new Uint8Array(20 * 1024 * 1024), { append: true });
      const receiver = w.receive(String(code));
      const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
      const offer = received.events.find((event) => event.type === "offer")!;
      if (!allow) {
        assert.equal(sent.code, 1, sent.stderr);
        assert.match(
          sent.stderr,
          /^error: Cannot send tiny\.txt: its size changed from 5 to 20971525 bytes after it was offered, and the receiver accepted 5; .*--allow-changing/,
        );
        assert.equal(received.code, 1, received.stderr);
        assert.match(
          received.stderr,
          /The sender stopped: Cannot send tiny\.txt: its size changed/,
        );
        assert.equal(offer.allowChanging, undefined);
        const left = await Deno.stat(`${w.dir}/in/tiny.txt.p2pft-partial`).catch(() => null);
        assert.ok(!left || left.size <= 5, `the receiver wrote ${left?.size} bytes`);
        await Deno.remove(`${w.dir}/in`, { recursive: true });
        await Deno.mkdir(`${w.dir}/in`);
        continue;
      }
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(received.code, 0, received.stderr);
      assert.equal(offer.allowChanging, true);
      assert.equal(await Deno.readTextFile(`${w.dir}/in/tiny.txt`), "hello");
      const done = received.events.find((event) => event.type === "done")!;
      assert.deepEqual([done.total, done.bytes, done.changed], [5, 5, ["tiny.txt"]]);
    }
  },
);

e2e(
  "names of 241-255 bytes, a backslash, a newline and a tab arrive as they are, shown escaped",
  async (signal) => {
    await using w = await world(signal);
    const names = ["n".repeat(250), "é".repeat(127) + "x", "back\\slash", "new\nline", "tab\there"];
    await Deno.mkdir(`${w.dir}/d`);
    for (const name of names) await Deno.writeTextFile(`${w.dir}/d/${name}`, name);
    await Deno.mkdir(`${w.dir}/in`);
    const sender = w.send([`${w.dir}/d`]);
    const { code } = await sender.next("code", signal);
    // Without --json: what a person reads.
    const receiver = w.spawnCli([
      "receive",
      String(code),
      "--out",
      `${w.dir}/in`,
      "--yes",
      ...w.rendezvous,
    ]);
    const [, received] = await bothSucceed(sender, receiver);
    for (const name of names) {
      assert.equal(await Deno.readTextFile(`${w.dir}/in/d/${name}`), name);
    }
    assert.match(received.stdout, /^ {2}"d\/new\\nline" {2}8 B$/m);
    assert.match(received.stdout, /^ {2}"d\/tab\\there" {2}8 B$/m);
    assert.match(received.stdout, /^ {2}"d\/back\\\\slash" {2}10 B$/m);
    assert.ok(!received.stdout.includes("new\nline"), "a raw newline reached the terminal");
  },
);

e2e(
  "files the kernel reports as size 0 (/proc) are read to their end, alone and among others",
  async (signal) => {
    await using w = await world(signal);
    await Deno.mkdir(`${w.dir}/in`);
    const { sent, received } = await w.transfer(["/proc/version", "/proc/sys/kernel/ostype"], {
      signal,
    });
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(received.code, 0, received.stderr);
    for (const path of ["/proc/version", "/proc/sys/kernel/ostype"]) {
      const name = path.split("/").at(-1);
      const expected = await Deno.readTextFile(path);
      assert.ok(expected.length > 0);
      assert.equal(await Deno.readTextFile(`${w.dir}/in/${name}`), expected);
    }
    const offer = received.events.find((event) => event.type === "offer")!;
    assert.deepEqual(offer.entries, [
      { path: "version", kind: "file", size: 0, unknownSize: true },
      { path: "ostype", kind: "file", size: 0, unknownSize: true },
    ]);
    const done = received.events.find((event) => event.type === "done")!;
    assert.ok(Number(done.total) > 0, `done.total ${done.total}`);
    const alone = await w.transfer(["/proc/cpuinfo"], { signal });
    assert.equal(alone.received.code, 0, alone.received.stderr);
    assert.ok((await Deno.stat(`${w.dir}/in/cpuinfo`)).size > 0, "cpuinfo arrived empty");
  },
);

e2e(
  "existing names are shown before accepting and written beside, never over; --existing skip leaves them out",
  async (signal) => {
    await using w = await world(signal);
    await Deno.mkdir(`${w.dir}/in`);
    await Deno.writeTextFile(`${w.dir}/notes.txt`, "new notes");
    await Deno.writeTextFile(`${w.dir}/same.txt`, "same");
    await Deno.writeTextFile(`${w.dir}/in/notes.txt`, "my old notes");
    await Deno.writeTextFile(`${w.dir}/in/same.txt`, "same");
    const paths = [`${w.dir}/notes.txt`, `${w.dir}/same.txt`];
    const beside = await w.transfer(paths, { signal });
    assert.equal(beside.sent.code, 0, beside.sent.stderr);
    assert.equal(beside.received.code, 0, beside.received.stderr);
    const offer = beside.received.events.find((event) => event.type === "offer")!;
    assert.deepEqual(offer.existing, [
      { path: "notes.txt", as: "notes (1).txt" },
      // Of the offered size: skipped instead if identical, which only hashing tells.
      { path: "same.txt", as: "same (1).txt", sameSize: true },
    ]);
    assert.equal(offer.onExisting, "rename");
    const done = beside.received.events.find((event) => event.type === "done")!;
    assert.deepEqual(done.renamed, [{ path: "notes.txt", as: "notes (1).txt" }]);
    assert.deepEqual(done.saved, ["notes (1).txt", "same.txt"]);
    assert.equal(await Deno.readTextFile(`${w.dir}/in/notes.txt`), "my old notes");
    assert.equal(await Deno.readTextFile(`${w.dir}/in/notes (1).txt`), "new notes");
    assert.deepEqual((await Array.fromAsync(Deno.readDir(`${w.dir}/in`))).length, 3);

    const kept = await w.transfer(paths, { signal, receive: ["--existing", "skip"] });
    for (const side of [kept.sent, kept.received]) {
      assert.equal(side.code, 3, side.stderr);
      const skipped = side.events.find((event) => event.type === "done")!.skipped;
      // Kept because it exists here: not a name this file system cannot hold.
      assert.deepEqual(
        (skipped as Array<{ path: string; kind: string }>).map(({ path, kind }) => ({
          path,
          kind,
        })),
        [{ path: "notes.txt", kind: "exists" }],
      );
    }
    const warned = kept.received.events.filter((event) => event.type === "warning");
    assert.match(
      String(warned.at(-1)?.message),
      /^Not written: notes\.txt \(a different (file|entry) with this name exists here and is kept\)$/,
    );
    assert.equal(await Deno.readTextFile(`${w.dir}/in/notes.txt`), "my old notes");
    assert.deepEqual((await Array.fromAsync(Deno.readDir(`${w.dir}/in`))).length, 3);
  },
);

e2e(
  "a folder already here is received into, a clashing file inside goes beside; a file with a folder's name makes it albums (1)",
  async (signal) => {
    await using w = await world(signal);
    await Deno.mkdir(`${w.dir}/photos`);
    await Deno.writeTextFile(`${w.dir}/photos/beach.jpg`, "new beach");
    await Deno.writeTextFile(`${w.dir}/photos/hill.jpg`, "hill");
    await Deno.mkdir(`${w.dir}/albums`);
    await Deno.writeTextFile(`${w.dir}/albums/cover.jpg`, "cover");
    await Deno.mkdir(`${w.dir}/in/photos`, { recursive: true });
    await Deno.writeTextFile(`${w.dir}/in/photos/beach.jpg`, "old beach");
    await Deno.writeTextFile(`${w.dir}/in/albums`, "a file, not a folder");
    const { received } = await w.transfer([`${w.dir}/photos`, `${w.dir}/albums`], { signal });
    assert.equal(received.code, 0, received.stderr);
    const done = received.events.find((event) => event.type === "done")!;
    assert.deepEqual(done.renamed, [
      { path: "photos/beach.jpg", as: "photos/beach (1).jpg" },
      { path: "albums", as: "albums (1)" },
    ]);
    assert.deepEqual(await listDir(`${w.dir}/in/photos`), [
      "beach (1).jpg",
      "beach.jpg",
      "hill.jpg",
    ]);
    assert.equal(await Deno.readTextFile(`${w.dir}/in/photos/beach.jpg`), "old beach");
    assert.deepEqual(await listDir(`${w.dir}/in/albums (1)`), ["cover.jpg"]);
    assert.equal(await Deno.readTextFile(`${w.dir}/in/albums`), "a file, not a folder");
  },
);

e2e(
  "a symlink inside a folder stays a symlink when its target stays inside; others are skipped on both sides",
  async (signal) => {
    await using w = await world(signal);
    const d = `${w.dir}/d`;
    await Deno.mkdir(`${d}/sub`, { recursive: true });
    await Deno.writeTextFile(`${d}/a.txt`, "a");
    await Deno.symlink("a.txt", `${d}/same-dir`);
    await Deno.symlink("../a.txt", `${d}/sub/up`);
    await Deno.symlink("sub", `${d}/to-dir`);
    await Deno.symlink("../../etc", `${d}/out`);
    await Deno.symlink("/etc/passwd", `${d}/abs`);
    await Deno.mkdir(`${w.dir}/in`);
    const { sent, received } = await w.transfer([d], { signal });
    for (const side of [sent, received]) {
      assert.equal(side.code, 3, side.stderr);
      const done = side.events.find((event) => event.type === "done")!;
      assert.deepEqual(done.skipped, [
        { path: "d/abs", kind: "symlink", reason: "not sent: symbolic link" },
        { path: "d/out", kind: "symlink", reason: "not sent: symbolic link" },
      ]);
    }
    const offer = received.events.find((event) => event.type === "offer")!;
    assert.deepEqual(offer.skipped, [
      { path: "d/abs", kind: "symlink" },
      { path: "d/out", kind: "symlink" },
    ]);
    const warned = sent.events.filter((event) => event.type === "warning").map((e) => e.message);
    assert.match(String(warned[0]), /^Skipping symbolic link d\/abs: only a link whose target/);
    assert.equal(await Deno.readLink(`${w.dir}/in/d/same-dir`), "a.txt");
    assert.equal(await Deno.readLink(`${w.dir}/in/d/sub/up`), "../a.txt");
    assert.equal(await Deno.readLink(`${w.dir}/in/d/to-dir`), "sub");
    assert.equal(await Deno.readTextFile(`${w.dir}/in/d/sub/up`), "a");
    for (const name of ["out", "abs"]) {
      await assert.rejects(Deno.lstat(`${w.dir}/in/d/${name}`), Deno.errors.NotFound);
    }
  },
);

e2e("a stream's offer event lists the names already here, as files' offers do", async (signal) => {
  await using w = await world(signal);
  await Deno.mkdir(`${w.dir}/in`);
  await Deno.writeTextFile(`${w.dir}/in/notes.txt`, "my old notes");
  const { sender, code } = await sendStream(w, "notes.txt", "piped notes", signal);
  const [, received] = await bothSucceed(sender, w.receive(String(code)));
  const offer = received.events.find((event) => event.type === "offer")!;
  assert.equal(offer.kind, "stream");
  assert.deepEqual(offer.existing, [{ path: "notes.txt", as: "notes (1).txt" }]);
  assert.equal(offer.existingMore, 0);
  assert.equal(offer.onExisting, "rename");
});

e2e(
  "an offer that resumes a partial says so: in the prompt, and in --json as resumes",
  async (signal) => {
    await using w = await world(signal);
    const bytes = crypto.getRandomValues(new Uint8Array(60_000));
    await Deno.writeFile(`${w.dir}/big.bin`, bytes);
    await Deno.mkdir(`${w.dir}/in`);
    // What an interrupted run leaves: the first bytes under the partial's name.
    await Deno.writeFile(`${w.dir}/in/big.bin.p2pft-partial`, bytes.subarray(0, 20_480));
    const { sender, receiver, keys } = await sendToPrompt(
      w,
      [`${w.dir}/big.bin`],
      "resumes",
      signal,
    );
    await keys.write(new TextEncoder().encode("n\n"));
    keys.releaseLock();
    const [, declined] = await Promise.all([sender.finished(), receiver.finished()]);
    assert.match(
      declined.stdout,
      /^ {2}resumes big\.bin from 20\.0 KiB \(what an earlier run left, if it matches\)\r?$/m,
    );
    const { sent, received } = await w.transfer([`${w.dir}/big.bin`], { signal });
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(received.code, 0, received.stderr);
    const offer = received.events.find((event) => event.type === "offer")!;
    assert.deepEqual(offer.resumes, [{ path: "big.bin", bytes: 20_480 }]);
    assert.equal(offer.resumesMore, 0);
    assert.deepEqual(await Deno.readFile(`${w.dir}/in/big.bin`), bytes);
  },
);
