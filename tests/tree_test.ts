/**
 * Files as people have them, through the real CLI: folders, modes, unicode,
 * many small files, resume after kill -9, a source changed between runs, Ctrl-C.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { bothSucceed, listDir, type World, world } from "./world.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";

const TEST_TIMEOUT_MS = 90_000;

function e2e(name: string, fn: (signal: AbortSignal) => Promise<void>) {
  boundedTest(name, fn, { timeoutMs: TEST_TIMEOUT_MS, sanitizeResources: false });
}

/** Starts send and receive against the world's server; resolves once the sender printed its code. */
async function pair(w: World, paths: string[], outDir: string) {
  const sender = w.send(paths);
  const { code } = await sender.next("code");
  return { sender, receiver: w.receive(String(code), [], { out: outDir }) };
}

/** Sends `paths` into `outDir`; both sides must exit 0. Returns the receiver's `done` event. */
async function completeTransfer(w: World, paths: string[], outDir: string) {
  const { sender, receiver } = await pair(w, paths, outDir);
  const [, received] = await bothSucceed(sender, receiver);
  return received.events.find((event) => event.type === "done")!;
}

/** Every entry below `root`: relative path, kind, permission bits and SHA-256 of files. */
async function listing(root: string, relative = ""): Promise<string[]> {
  const lines: string[] = [];
  for await (const entry of Deno.readDir(`${root}/${relative}`)) {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    const info = await Deno.lstat(`${root}/${path}`);
    const mode = (info.mode! & 0o777).toString(8);
    if (entry.isDirectory) {
      lines.push(`dir ${mode} ${path}`, ...await listing(root, path));
    } else {
      const hash = await sha256File(`${root}/${path}`);
      lines.push(`file ${mode} ${info.size} ${hash} ${path}`);
    }
  }
  return lines.sort();
}

e2e(
  "a tree with nested and empty folders, an executable, unicode names and 1,000 small files arrives identical",
  async (signal) => {
    await using s = await world(signal);
    const tree = `${s.dir}/project`;
    await Deno.mkdir(`${tree}/src/deep/deeper`, { recursive: true });
    await Deno.mkdir(`${tree}/empty`);
    await Deno.mkdir(`${tree}/many`);
    await Deno.writeTextFile(`${tree}/src/deep/deeper/readme.md`, "# nested\n");
    await Deno.writeTextFile(`${tree}/run.sh`, "#!/bin/sh\necho hi\n");
    await Deno.chmod(`${tree}/run.sh`, 0o755);
    await Deno.writeTextFile(`${tree}/Ünïcödé 文件 🎉.txt`, "unicode\n");
    await makeRandomFile(`${tree}/src/blob.bin`, 3 * 1024 * 1024 + 17);
    for (let index = 0; index < 1000; index++) {
      await Deno.writeTextFile(
        `${tree}/many/file-${index}.txt`,
        `small file ${index}\n`.repeat(index % 7),
      );
    }
    await Deno.mkdir(`${s.dir}/in`);
    const done = await completeTransfer(s, [tree], `${s.dir}/in`);
    assert.deepEqual(await listing(`${s.dir}/in/project`), await listing(tree));
    assert.equal(done.files, 1004);
  },
);

/** Starts a transfer of `source` and kills the sender with SIGKILL once the receiver passed `fraction`. */
async function interruptedTransfer(s: World, source: string, outDir: string, fraction: number) {
  const { sender, receiver } = await pair(s, [source], outDir);
  await receiver.until((event) =>
    event.type === "progress" && Number(event.bytes) >= fraction * Number(event.total)
  );
  sender.kill("SIGKILL");
  const received = await receiver.finished();
  assert.equal(received.code, 1, received.stderr);
}

e2e(
  "after kill -9 of the sender at ~50%, a new send resumes and sends under 60% again",
  async (signal) => {
    await using s = await world(signal);
    const source = `${s.dir}/video.bin`;
    const size = 512 * 1024 * 1024;
    await makeRandomFile(source, size);
    await Deno.mkdir(`${s.dir}/in`);
    await interruptedTransfer(s, source, `${s.dir}/in`, 0.5);
    const partial = await Deno.stat(`${s.dir}/in/video.bin.p2pft-partial`);
    assert.ok(partial.size > 0 && partial.size < size, `partial is ${partial.size} bytes`);

    const { sender, receiver } = await pair(s, [source], `${s.dir}/in`);
    const [, received] = await bothSucceed(sender, receiver);
    const done = received.events.find((event) => event.type === "done")!;
    assert.ok(Number(done.bytes) < 0.6 * size, `resume sent ${done.bytes} of ${size} bytes`);
    // Progress starts from the resumed prefix and says how much of it was there already.
    const progress = received.events.filter((event) => event.type === "progress");
    assert.ok(progress.length > 0);
    for (const event of progress) {
      assert.equal(event.already, size - Number(done.bytes), JSON.stringify(event));
      assert.ok(Number(event.bytes) > Number(event.already), JSON.stringify(event));
    }
    assert.equal(done.total, size);
    const expected = await sha256File(source);
    assert.equal(done.sha256, expected);
    assert.deepEqual(await listing(`${s.dir}/in`), [`file 644 ${size} ${expected} video.bin`]);
  },
);

e2e(
  "folders an interrupted run created end with the sender's modes and mtimes once a new send resumes",
  async (signal) => {
    await using s = await world(signal);
    const tree = `${s.dir}/project`;
    await Deno.mkdir(`${tree}/deep/deeper`, { recursive: true });
    await makeRandomFile(`${tree}/deep/deeper/video.bin`, 256 * 1024 * 1024);
    const then = new Date("2020-01-02T03:04:05Z");
    for (const [path, mode] of [["deep/deeper", 0o750], ["deep", 0o755], ["", 0o711]] as const) {
      await Deno.chmod(`${tree}/${path}`, mode);
      await Deno.utime(`${tree}/${path}`, then, then);
    }
    // A folder of the user's own, 0700 and holding other things, is left as it is (its parent
    // holds only offered names: it cannot be told from one a transfer made).
    await Deno.mkdir(`${s.dir}/in/project/deep`, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(`${s.dir}/in/project/deep/mine.txt`, "mine");
    await interruptedTransfer(s, tree, `${s.dir}/in`, 0.3);
    // A folder that was not there arrives whole through a staging folder beside it.
    const left = await Deno.stat(`${s.dir}/in/project/deep/.deeper.p2pft-partial`);
    assert.equal(left.mode! & 0o777, 0o700, "a folder being received is private");

    await completeTransfer(s, [tree], `${s.dir}/in`);
    for (const [path, mode] of [["deep/deeper", 0o750], ["deep", 0o700], ["", 0o711]] as const) {
      const info = await Deno.stat(`${s.dir}/in/project/${path}`);
      assert.equal((info.mode! & 0o777).toString(8), mode.toString(8), `project/${path}`);
      if (mode !== 0o700) assert.equal(info.mtime?.getTime(), then.getTime(), `project/${path}`);
    }
  },
);

e2e(
  "a source file changed between runs is detected and sent again from the start",
  async (signal) => {
    await using s = await world(signal);
    const source = `${s.dir}/data.bin`;
    const size = 512 * 1024 * 1024;
    await makeRandomFile(source, size);
    await Deno.mkdir(`${s.dir}/in`);
    await interruptedTransfer(s, source, `${s.dir}/in`, 0.3);
    {
      using file = await Deno.open(source, { write: true });
      await file.write(new TextEncoder().encode("changed since the first attempt"));
    }

    const done = await completeTransfer(s, [source], `${s.dir}/in`);
    assert.equal(done.bytes, size, "a changed file must be sent whole");
    const expected = await sha256File(source);
    assert.equal(done.sha256, expected);
  },
);

/** A 1 GiB big.bin on its way into `in`, once the receiver reported progress. */
async function bigTransferUnderWay(w: World) {
  const source = `${w.dir}/big.bin`;
  await makeRandomFile(source, 1024 * 1024 * 1024);
  await Deno.mkdir(`${w.dir}/in`);
  const runs = await pair(w, [source], `${w.dir}/in`);
  await runs.receiver.next("progress");
  return runs;
}

for (const side of ["sender", "receiver"] as const) {
  e2e(
    `Ctrl-C on the ${side} stops both sides, exit 130 there, partial kept`,
    async (signal) => {
      await using s = await world(signal);
      const runs = await bigTransferUnderWay(s);
      runs[side].kill("SIGINT");
      const [sent, received] = await Promise.all([
        runs.sender.finished(),
        runs.receiver.finished(),
      ]);
      const [interrupted, other] = side === "sender" ? [sent, received] : [received, sent];
      assert.equal(interrupted.code, 130, interrupted.stderr);
      assert.match(interrupted.stderr, /Interrupted/);
      assert.equal(other.code, 1, other.stderr);
      const peer = side === "sender" ? "sender" : "receiver";
      // The session's end carries why, in one wording.
      assert.equal(other.stderr, `error: The ${peer} stopped: Interrupted\n`);
      // The receiver says how to go on from what it kept (before: nothing).
      const warnings = received.events.filter((event) => event.type === "warning");
      assert.deepEqual(warnings.map((event) => event.message), [
        `What arrived is kept in ${s.dir}/in (NAME.p2pft-partial): to go on from there, the sender ` +
        `runs send again and you run receive with its new code and the same --out`,
      ]);
      assert.deepEqual(await listDir(`${s.dir}/in`), ["big.bin.p2pft-partial"]);
      // A stopped peer is not a bad one: the bytes received so far stay for resume.
      const kept = (await Deno.stat(`${s.dir}/in/big.bin.p2pft-partial`)).size;
      assert.ok(kept > 0, "the partial file was emptied");
    },
  );
}

e2e(
  "a receiver whose folder was deleted during the transfer does not say a partial is kept",
  async (signal) => {
    await using s = await world(signal);
    const runs = await bigTransferUnderWay(s);
    await Deno.remove(`${s.dir}/in`, { recursive: true });
    runs.receiver.kill("SIGINT");
    const [, received] = await Promise.all([runs.sender.finished(), runs.receiver.finished()]);
    assert.equal(received.code, 130, received.stderr);
    const warnings = received.events.filter((event) => event.type === "warning");
    assert.deepEqual(warnings.map((event) => event.message), [
      `Nothing that arrived is kept: no NAME.p2pft-partial is left in ${s.dir}/in`,
    ]);
  },
);
