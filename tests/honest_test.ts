/**
 * Honest outcomes through the real CLI: a source changed during the send is
 * sent again, names are judged by the receiver's file system, special files
 * are reported, and what can be checked locally fails before a code is used.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { spawnCli, type SpawnCliOptions } from "../scripts/cli_process.ts";
import { listDir, type World, world } from "./world.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";

const TEST_TIMEOUT_MS = 120_000;
const MIB = 1024 * 1024;

function e2e(
  name: string,
  fn: (signal: AbortSignal) => Promise<void>,
  options: { ignore?: boolean } = {},
) {
  boundedTest(name, fn, { timeoutMs: TEST_TIMEOUT_MS, sanitizeResources: false, ...options });
}

function startSend(w: World, paths: string[], extra: string[] = []) {
  return w.spawnCli(["send", ...paths, ...w.rendezvous, "--json", ...extra]);
}

function startReceive(w: World, code: unknown, outDir: string, options?: SpawnCliOptions) {
  return w.spawnCli(
    ["receive", String(code), "--out", outDir, "--yes", ...w.rendezvous, "--json"],
    options,
  );
}

/** Both sides exit 0; returns both sides' results. */
async function bothSucceed(sender: ReturnType<World["spawnCli"]>, receiver: typeof sender) {
  const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(received.code, 0, received.stderr);
  return { sent, received };
}

function warnings(events: Array<{ type: string; message?: unknown }>): string[] {
  return events.filter((event) => event.type === "warning").map((event) => String(event.message));
}

/** Sends a 160 MiB file and runs `change` once the receiver reports its first progress. */
async function sendWhileChanging(w: World, change: (source: string) => Promise<void>) {
  const source = `${w.dir}/g.bin`;
  await makeRandomFile(source, 160 * MIB);
  await Deno.mkdir(`${w.dir}/in`);
  const sender = startSend(w, [source]);
  const { code } = await sender.next("code");
  const receiver = startReceive(w, code, `${w.dir}/in`);
  await receiver.next("progress");
  await change(source);
  const { sent, received } = await bothSucceed(sender, receiver);
  const expected = await sha256File(source);
  assert.equal(await sha256File(`${w.dir}/in/g.bin`), expected);
  for (const side of [sent, received]) {
    const done = side.events.find((event) => event.type === "done")!;
    assert.equal(done.sha256, expected);
    assert.deepEqual(done.changed, []);
    assert.deepEqual(warnings(side.events), [
      "g.bin changed while it was sent; it was sent again from the start",
    ]);
  }
  assert.deepEqual(await listDir(`${w.dir}/in`), ["g.bin"]);
}

e2e(
  "a source modified in place during the send is sent again and arrives as it is now",
  async (signal) => {
    await using w = await world(signal);
    await sendWhileChanging(w, async (source) => {
      using file = await Deno.open(source, { write: true });
      await file.seek(150 * MIB, Deno.SeekMode.Start);
      await file.write(crypto.getRandomValues(new Uint8Array(MIB / 16)));
    });
  },
);

e2e("a symlink named on the command line is followed: its target arrives", async (signal) => {
  await using w = await world(signal);
  await makeRandomFile(`${w.dir}/big.bin`, 3 * MIB + 1);
  await Deno.symlink("big.bin", `${w.dir}/link`);
  await Deno.mkdir(`${w.dir}/in`);
  const sender = startSend(w, [`${w.dir}/link`]);
  const { code } = await sender.next("code");
  const offer = sender.events.find((event) => event.type === "offer")!;
  assert.deepEqual([offer.files, offer.bytes], [1, 3 * MIB + 1]);
  await bothSucceed(sender, startReceive(w, code, `${w.dir}/in`));
  assert.equal(await sha256File(`${w.dir}/in/link`), await sha256File(`${w.dir}/big.bin`));
  await Deno.symlink("missing", `${w.dir}/nowhere`);
  const dangling = await spawnCli(["send", `${w.dir}/nowhere`, ...w.rendezvous]).finished();
  assert.equal(dangling.code, 1, dangling.stderr);
  assert.match(dangling.stderr, /^error: Cannot send .*nowhere: No such file/);
});

e2e("Makefile beside makefile, aux.c, con.h and x. arrive as they are on Linux", async (signal) => {
  await using w = await world(signal);
  const names = ["Makefile", "makefile", "aux.c", "con.h", "x.", "README", "readme"];
  await Deno.mkdir(`${w.dir}/d`);
  for (const [index, name] of names.entries()) {
    await Deno.writeTextFile(`${w.dir}/d/${name}`, `file ${index}\n`);
  }
  await Deno.mkdir(`${w.dir}/in`);
  const sender = startSend(w, [`${w.dir}/d`]);
  const { code } = await sender.next("code");
  const { sent, received } = await bothSucceed(sender, startReceive(w, code, `${w.dir}/in`));
  assert.deepEqual(await listDir(`${w.dir}/in/d`), [...names].sort());
  for (const [index, name] of names.entries()) {
    assert.equal(await Deno.readTextFile(`${w.dir}/in/d/${name}`), `file ${index}\n`);
  }
  assert.deepEqual([warnings(sent.events), warnings(received.events)], [[], []]);
});

e2e("a FIFO inside a folder is reported as skipped and the rest arrives", async (signal) => {
  await using w = await world(signal);
  await Deno.mkdir(`${w.dir}/d`);
  await Deno.writeTextFile(`${w.dir}/d/a.txt`, "a\n");
  const made = await new Deno.Command("mkfifo", { args: [`${w.dir}/d/pipe`] }).output();
  assert.ok(made.success, new TextDecoder().decode(made.stderr));
  await Deno.mkdir(`${w.dir}/in`);
  const sender = startSend(w, [`${w.dir}/d`]);
  const { code } = await sender.next("code");
  const { sent, received } = await bothIncomplete(sender, startReceive(w, code, `${w.dir}/in`));
  const notSent = "Not sent: d/pipe (named pipe (FIFO))";
  assert.deepEqual(warnings(sent.events), ["Skipping named pipe (FIFO) d/pipe", notSent]);
  assert.deepEqual(warnings(received.events), [notSent]);
  assert.deepEqual(await listDir(`${w.dir}/in/d`), ["a.txt"]);
});

e2e(
  "a sender that skipped a symlink in a folder ends saying what it did not send",
  async (signal) => {
    await using w = await world(signal);
    await Deno.mkdir(`${w.dir}/d`);
    await Deno.writeTextFile(`${w.dir}/d/a.txt`, "a\n");
    await Deno.symlink("/etc/hostname", `${w.dir}/d/link`);
    await Deno.mkdir(`${w.dir}/in`);
    const sender = startSend(w, [`${w.dir}/d`]);
    const { code } = await sender.next("code");
    const { sent, received } = await bothIncomplete(sender, startReceive(w, code, `${w.dir}/in`));
    // The sender's last line is its own side: what it did not send; the receiver's is unchanged.
    assert.match(
      sent.stderr,
      /error: Not everything arrived: 1 entry was skipped: not sent from here: d\/link \(symbolic link\)/,
    );
    assert.match(received.stderr, /skipped \(listed above, and in done\.skipped with --json\)\n$/);
    assert.deepEqual(await listDir(`${w.dir}/in/d`), ["a.txt"]);
  },
);

/**
 * Both sides finish with exit 3 (not everything arrived), and both list the
 * same skipped entries, before accepting (`offer.skipped`) and in `done`.
 */
async function bothIncomplete(sender: ReturnType<World["spawnCli"]>, receiver: typeof sender) {
  const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
  for (const side of [sent, received]) {
    assert.equal(side.code, 3, side.stderr);
    assert.match(
      side.stderr,
      /error: Not everything arrived: \d+ (entry was|entries were) skipped/,
    );
  }
  const skipped = (side: typeof sent) =>
    side.events.find((event) => event.type === "done")!.skipped;
  assert.deepEqual(skipped(sent), skipped(received));
  const offered = received.events.find((event) => event.type === "offer")!.skipped as unknown[];
  assert.equal(offered.length, (skipped(received) as unknown[]).length);
  return { sent, received };
}

/**
 * Runs the CLI as `nobody`, so permissions apply (the tests run as root). Deno
 * needs its npm cache readable by that user: a copy in `w.dir`.
 */
async function asNobody(w: World): Promise<SpawnCliOptions> {
  const denoDir = `${w.dir}/deno-dir`;
  const cache = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  await Deno.mkdir(denoDir);
  for (const args of [["-r", `${cache}/npm`, `${denoDir}/npm`], ["-R", "a+rwX", denoDir]]) {
    const done = await new Deno.Command(args[0] === "-r" ? "cp" : "chmod", { args }).output();
    assert.ok(done.success, new TextDecoder().decode(done.stderr));
  }
  await Deno.chmod(w.dir, 0o755);
  return {
    wrapper: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
    env: { DENO_DIR: denoDir },
  };
}

const ROOT = Deno.uid() === 0;

e2e(
  "an unreadable file inside a folder is skipped and listed on both sides; the rest arrives, exit 3",
  async (signal) => {
    await using w = await world(signal);
    const nobody = await asNobody(w);
    await Deno.mkdir(`${w.dir}/d`, { mode: 0o755 });
    await Deno.chmod(`${w.dir}/d`, 0o755);
    await Deno.writeTextFile(`${w.dir}/d/ok.txt`, "ok\n");
    await Deno.writeTextFile(`${w.dir}/d/secret.txt`, "secret\n");
    await Deno.chmod(`${w.dir}/d/ok.txt`, 0o644);
    await Deno.chmod(`${w.dir}/d/secret.txt`, 0o000);
    await Deno.mkdir(`${w.dir}/in`);
    const sender = w.send([`${w.dir}/d`], [], nobody);
    const { code } = await sender.next("code");
    const { sent, received } = await bothIncomplete(
      sender,
      startReceive(w, code, `${w.dir}/in`),
    );
    // The reason, not Deno's "(os error 13): open '/tmp/.../d/secret.txt'" after it.
    assert.equal(warnings(sent.events)[0], "Skipping d/secret.txt: Permission denied");
    assert.deepEqual(received.events.find((event) => event.type === "done")!.skipped, [
      { path: "d/secret.txt", kind: "unreadable", reason: "not sent: unreadable" },
    ]);
    assert.deepEqual(await listDir(`${w.dir}/in/d`), ["ok.txt"]);
  },
  { ignore: !ROOT },
);

e2e(
  "a read-only --out and a typo'd word fail locally and the sender still waits for the right receiver",
  async (signal) => {
    await using w = await world(signal);
    const nobody = await asNobody(w);
    await Deno.writeTextFile(`${w.dir}/a.txt`, "hello\n");
    await Deno.mkdir(`${w.dir}/in`);
    await Deno.chmod(`${w.dir}/in`, 0o755);
    const sender = startSend(w, [`${w.dir}/a.txt`], ["--code", "7-service-scan"]);
    const { code } = await sender.next("code");
    const readOnly = await startReceive(w, code, `${w.dir}/in`, nobody).finished();
    assert.equal(readOnly.code, 1, readOnly.stderr);
    assert.match(
      readOnly.stderr,
      /^error: Cannot receive into .*\/in: it is not writable \(Permission denied\)\n$/,
    );

    const typoed = await startReceive(w, "7-service-scanx", `${w.dir}/in`).finished();
    assert.equal(typoed.code, 2, typoed.stderr);
    assert.match(typoed.stderr, /"scanx" is not in the word list; did you mean "scan"\?/);
    assert.ok(!typoed.events.some((event) => event.type === "paired"));

    await bothSucceed(sender, startReceive(w, code, `${w.dir}/in`));
    assert.equal(await Deno.readTextFile(`${w.dir}/in/a.txt`), "hello\n");
  },
  { ignore: !ROOT },
);

e2e(
  "a name that is not valid UTF-8 is skipped and listed, escaped; the rest arrives",
  async (signal) => {
    await using w = await world(signal);
    await Deno.mkdir(`${w.dir}/d`);
    const made = await new Deno.Command("sh", {
      args: ["-c", 'touch "d/bad$(printf "\\377")name"'],
      cwd: w.dir,
    }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    await Deno.writeTextFile(`${w.dir}/d/good.txt`, "good");
    await Deno.mkdir(`${w.dir}/in`);
    const sender = w.send(["d"]);
    const { code } = await sender.next("code");
    const { sent } = await bothIncomplete(sender, startReceive(w, code, `${w.dir}/in`));
    assert.match(
      warnings(sent.events)[0],
      /^Skipping d\/bad\ufffdname: the name is not valid UTF-8 \(each \\ufffd stands/,
    );
    assert.deepEqual(await listDir(`${w.dir}/in/d`), ["good.txt"]);
  },
);

e2e(
  "a disk that fills while the person decides: the error names the partial kept, the space missing and how to resume; the sender sees no receiver path",
  async (signal) => {
    await using w = await world(signal);
    const out = `${w.dir}/small`;
    await Deno.mkdir(out);
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=4m", "tmpfs", out],
    }).output();
    assert.ok(mount.success, new TextDecoder().decode(mount.stderr));
    try {
      // 3 MiB fit when the offer comes (a larger one is refused then: tests/free_space_test.ts).
      await makeRandomFile(`${w.dir}/big.bin`, 3 * MIB);
      const sender = startSend(w, [`${w.dir}/big.bin`]);
      const { code } = await sender.next("code");
      const receiver = w.receiveOnTerminal(String(code), out);
      await receiver.until((event) => String(event.line ?? "").includes("big.bin"), signal);
      await makeRandomFile(`${out}/filler.bin`, 2 * MIB);
      const keys = receiver.stdin!.getWriter();
      await keys.write(new TextEncoder().encode("y\n"));
      keys.releaseLock();
      const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
      assert.equal(received.code, 1, received.stdout);
      // On a terminal (script's pty) stderr and stdout are one stream.
      assert.match(
        received.stdout,
        /^error: Disk full: .*\/small\/big\.bin\.p2pft-partial kept: free \d+\.\d MiB, then the sender runs send again and you run receive with its new code and the same --out\r?$/m,
      );
      assert.equal(sent.code, 1, sent.stderr);
      // The sender reads the missing space in the receiver's units, not a raw byte count.
      assert.match(
        sent.stderr,
        /^error: The receiver stopped: No space left in the output folder: big\.bin\.p2pft-partial keeps what arrived; \d+\.\d MiB more is needed\n$/,
      );
      assert.doesNotMatch(sent.stderr, new RegExp(out));
      assert.deepEqual(await listDir(out), ["big.bin.p2pft-partial", "filler.bin"]);

      // Following the advice to the letter is enough: free exactly that much, receive again.
      const free = Number(/free (\d+\.\d) MiB/.exec(received.stdout)![1]);
      const size = Math.ceil((4 + free) * MIB);
      const grown = await new Deno.Command("mount", {
        args: ["-o", `remount,size=${size}`, out],
      }).output();
      assert.ok(grown.success, new TextDecoder().decode(grown.stderr));
      const again = startSend(w, [`${w.dir}/big.bin`]);
      const next = await again.next("code");
      await bothSucceed(again, startReceive(w, next.code, out));
      assert.equal(await sha256File(`${out}/big.bin`), await sha256File(`${w.dir}/big.bin`));
    } finally {
      await new Deno.Command("umount", { args: [out] }).output();
    }
  },
  { ignore: !ROOT },
);

e2e(
  "a folder here that this receiver cannot write into: one line naming the file and the reason, both sides",
  async (signal) => {
    await using w = await world(signal);
    const nobody = await asNobody(w);
    await Deno.mkdir(`${w.dir}/d`);
    await Deno.writeTextFile(`${w.dir}/d/x.txt`, "hi\n");
    // `in/d` is there already (received into, as cp -r would) but root's, read-only.
    await Deno.mkdir(`${w.dir}/in/d`, { recursive: true });
    await Deno.chmod(`${w.dir}/in`, 0o777);
    await Deno.chmod(`${w.dir}/in/d`, 0o555);
    const sender = startSend(w, [`${w.dir}/d`]);
    const { code } = await sender.next("code");
    const [sent, received] = await Promise.all([
      sender.finished(),
      startReceive(w, code, `${w.dir}/in`, nobody).finished(),
    ]);
    // Not Deno's "Permission denied (os error 13): open '/tmp/.../in/d/x.txt.p2pft-partial'".
    assert.equal(received.code, 1, received.stderr);
    assert.equal(
      received.stderr,
      `error: Cannot open ${w.dir}/in/d/x.txt.p2pft-partial: Permission denied\n`,
    );
    assert.equal(sent.code, 1, sent.stderr);
    assert.equal(
      sent.stderr,
      "error: The receiver stopped: Cannot open d/x.txt.p2pft-partial: Permission denied\n",
    );
  },
  { ignore: !ROOT },
);

e2e(
  "a partial left by an interrupted receive, in a folder sent, is skipped saying what it is",
  async (signal) => {
    await using w = await world(signal);
    await Deno.mkdir(`${w.dir}/d`);
    await Deno.writeTextFile(`${w.dir}/d/big.bin.p2pft-partial`, "half");
    const sent = await startSend(w, [`${w.dir}/d`], ["--timeout", "1"]).finished();
    // Not 'Refusing unsafe path "d/big.bin.p2pft-partial": ...' after the name it already gave.
    assert.equal(
      warnings(sent.events)[0],
      "Skipping d/big.bin.p2pft-partial: the .p2pft-partial suffix is reserved for what an interrupted receive keeps",
    );
  },
);
