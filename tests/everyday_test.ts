/**
 * Everyday use through the real CLI: a text, a stream from stdin to stdout,
 * one code for several receivers.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { boundedTest } from "./bounded.ts";
import { assertSucceeded, bothSucceed, listDir, type World, world, wrongWords } from "./world.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function e2e(name: string, fn: (signal: AbortSignal) => Promise<void>, timeoutMs = 60_000) {
  boundedTest(name, fn, { timeoutMs });
}

/**
 * `receive CODE --stdout --yes`, its stdout hashed as it arrives (what
 * `| sha256sum` does), killed with the test's signal.
 */
async function receiveToStdout(w: World, code: string, signal: AbortSignal) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "receive", code, "--stdout", "--yes", ...w.rendezvous],
    cwd: w.dir,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).spawn();
  const hash = createHash("sha256");
  let bytes = 0;
  const [status, , stderr] = await Promise.all([
    child.status,
    (async () => {
      for await (const chunk of child.stdout) {
        hash.update(chunk);
        bytes += chunk.length;
      }
    })(),
    new Response(child.stderr).text(),
  ]);
  return { code: status.code, sha256: hash.digest("hex"), bytes, stderr };
}

e2e(
  "a text goes from send --text to the receiver's stdout, and nothing is written",
  async (signal) => {
    await using w = await world(signal);
    const text = "héllo wörld\nsecond line";
    const sender = w.send([], ["--text", text]);
    const { code } = await sender.next("code");
    const receiver = w.spawnCli(["receive", String(code), "--yes", ...w.rendezvous]);
    const [sent, received] = await bothSucceed(sender, receiver);
    assert.ok(received.stdout.includes(`${text}\n`), received.stdout);
    // Both run here: named as this computer, not by an address such as fd00::2.
    assert.match(received.stdout, /; the peer is on this computer \(127\.0\.0\.1:\d+\)\./);
    assert.match(received.stdout, /^Connected over the LAN to this computer \(\S+\) over /m);
    // The receiver accepts without asking (--yes): the sender does not say it waits for that.
    assert.ok(!sent.events.some((event) => event.type === "waiting"), sent.stdout);
    assert.deepEqual(sent.events.find((event) => event.type === "offer"), {
      type: "offer",
      files: 0,
      directories: 0,
      bytes: new TextEncoder().encode(text).length,
      kind: "text",
    });
    const done = sent.events.find((event) => event.type === "done")!;
    assert.equal(done.sha256, createHash("sha256").update(text).digest("hex"));
    assert.deepEqual(await listDir(w.dir), []);
  },
);

e2e(
  "a text's escape sequences reach the receiver's terminal as text, not as commands",
  async (signal) => {
    await using w = await world(signal);
    const sender = w.send([], ["--text", "plain\x1b[2J\x1b]0;title\x07end"]);
    const { code } = await sender.next("code");
    const receiver = w.spawnCli(["receive", String(code), "--yes", ...w.rendezvous]);
    const [, received] = await bothSucceed(sender, receiver);
    assert.ok(
      received.stdout.includes("plain\\u001b[2J\\u001b]0;title\\u0007end\n"),
      received.stdout,
    );
    assert.ok(!received.stdout.includes("\x1b"), JSON.stringify(received.stdout));
  },
);

/** Sends `path`; the receiver (`--yes` into `DIR/in`) prints for a person. Both must succeed. */
async function receivedOnScreen(w: World, path: string) {
  const sender = w.send([path]);
  const { code } = await sender.next("code");
  const receiver = w.spawnCli([
    "receive",
    String(code),
    "--yes",
    "--out",
    `${w.dir}/in`,
    ...w.rendezvous,
  ]);
  const [, received] = await bothSucceed(sender, receiver);
  return received;
}

e2e(
  "a file already there is reported as nothing sent, not at a rate of 0.0 MB/s",
  async (signal) => {
    await using w = await world(signal);
    await Deno.writeTextFile(`${w.dir}/same.txt`, "already there");
    await Deno.mkdir(`${w.dir}/in`);
    await Deno.writeTextFile(`${w.dir}/in/same.txt`, "already there");
    const received = await receivedOnScreen(w, `${w.dir}/same.txt`);
    assert.match(
      received.stdout,
      /^Done: 1 file, 13 B \(all of it already there, nothing sent now\) via lan; sha256 /m,
    );
    assert.deepEqual(await listDir(`${w.dir}/in`), ["same.txt"]);
  },
);

e2e("an empty folder arrives as such, with no rate and no 'already there'", async (signal) => {
  await using w = await world(signal);
  await Deno.mkdir(`${w.dir}/empty`);
  await Deno.mkdir(`${w.dir}/in`);
  const received = await receivedOnScreen(w, `${w.dir}/empty`);
  assert.match(received.stdout, /^Done: 0 files, 0 B via lan; sha256 /m);
  assert.deepEqual(await listDir(`${w.dir}/in`), ["empty"]);
});

e2e("a text with --json is a text event on the receiver", async (signal) => {
  await using w = await world(signal);
  const text = "🙂 --json";
  const sender = w.send([], ["--text", text]);
  const { code } = await sender.next("code");
  const receiver = w.spawnCli(["receive", String(code), "--yes", ...w.rendezvous, "--json"]);
  const [, received] = await bothSucceed(sender, receiver);
  assert.deepEqual(received.events.find((event) => event.type === "text"), { type: "text", text });
  assert.ok(received.events.every((event) => event.type !== "non-json"), received.stdout);
  assert.deepEqual(await listDir(w.dir), []);
});

e2e(
  "send --text - reads the text from stdin; receive --stdout prints exactly it",
  async (signal) => {
    await using w = await world(signal);
    const text = "no newline at the end ✓";
    const sender = w.send([], ["--text", "-"], {
      stdin: "piped",
    });
    const writer = sender.stdin!.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    const { code } = await sender.next("code");
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "receive", String(code), "--stdout", "--yes", ...w.rendezvous],
      cwd: w.dir,
      stdin: "null",
      signal,
    }).output();
    assert.equal(child.code, 0, new TextDecoder().decode(child.stderr));
    assert.equal(new TextDecoder().decode(child.stdout), text);
    assert.equal((await sender.finished()).code, 0);
  },
);

e2e("50 MiB piped into send - arrive on receive --stdout with the same SHA-256", async (signal) => {
  await using w = await world(signal);
  const size = 50 * 1024 * 1024;
  const sender = w.send(["-"], ["--name", "random.bin"], {
    stdin: "piped",
  });
  const expected = createHash("sha256");
  // Written while the transfer runs: the pipe holds only 64 KiB, like `head -c 50M /dev/urandom |`.
  const feeding = (async () => {
    const writer = sender.stdin!.getWriter();
    for (let written = 0; written < size; written += 65_536) {
      const chunk = crypto.getRandomValues(new Uint8Array(65_536));
      expected.update(chunk);
      await writer.write(chunk);
    }
    await writer.close();
  })();
  const { code } = await sender.next("code");
  const [received, sent] = await Promise.all([
    receiveToStdout(w, String(code), signal),
    sender.finished(),
    feeding,
  ]);
  const sha256 = expected.digest("hex");
  assert.equal(received.code, 0, received.stderr);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(received.bytes, size);
  assert.equal(received.sha256, sha256);
  assert.match(received.stderr, new RegExp(`Done: 1 file, 50\\.0 MiB.*sha256 ${sha256}`));
  assert.equal(sent.events.find((event) => event.type === "done")!.sha256, sha256);
  assert.deepEqual(sent.events.find((event) => event.type === "offer"), {
    type: "offer",
    files: 1,
    directories: 0,
    bytes: 0,
    kind: "stream",
  });
  const progress = sent.events.filter((event) => event.type === "progress");
  assert.ok(progress.length > 0);
  assert.ok(progress.every((event) => event.unknownSize === true && event.total === event.bytes));
  assert.deepEqual(await listDir(w.dir), []);
}, 120_000);

e2e("receive --stdout refuses an offer of several files and writes nothing", async (signal) => {
  await using w = await world(signal);
  await Deno.writeTextFile(`${w.dir}/a.txt`, "a");
  await Deno.writeTextFile(`${w.dir}/b.txt`, "b");
  const sender = w.send([`${w.dir}/a.txt`, `${w.dir}/b.txt`]);
  const { code } = await sender.next("code");
  const received = await receiveToStdout(w, String(code), signal);
  const sent = await sender.finished();
  assert.equal(received.code, 1);
  assert.equal(received.bytes, 0);
  assert.match(
    received.stderr,
    /error: Refusing an offer of 2 files and 0 folders: receive --stdout takes one file only; receive them into a folder \(without --stdout\) with a new code\n$/,
  );
  assert.equal(sent.code, 1);
  assert.match(sent.stderr, /The receiver stopped: Refusing an offer of 2 files/);
  assert.deepEqual(await listDir(w.dir), ["a.txt", "b.txt"]);
});

e2e(
  "send --receivers 3 serves three receivers in a row, each verified, and refuses a fourth",
  async (signal) => {
    await using w = await world(signal);
    const source = `${w.dir}/shared.bin`;
    await makeRandomFile(source, 3 * 1024 * 1024);
    const expected = await sha256File(source);
    const sender = w.send([source], ["--receivers", "3"]);
    const { code } = await sender.next("code");
    for (const index of [1, 2, 3]) {
      const out = `${w.dir}/in${index}`;
      await Deno.mkdir(out);
      const receiver = w.receive(String(code), [], { out });
      const received = await receiver.finished();
      assert.equal(received.code, 0, received.stderr);
      assert.equal(await sha256File(`${out}/shared.bin`), expected);
      // The sender opens the code again once it has reported this receiver.
      const reported = await sender.until((event) =>
        event.type === "receiver" && event.receiver === index
      );
      assert.equal(reported.ok, true);
      assert.equal(reported.sha256, expected);
      assert.equal(reported.of, 3);
    }
    const sent = await sender.finished();
    assert.equal(sent.code, 0, sent.stderr);
    assert.deepEqual(sent.events.find((event) => event.type === "summary"), {
      type: "summary",
      receivers: 3,
      succeeded: 3,
      failed: 0,
    });
    assert.equal(sent.events.filter((event) => event.type === "code").length, 1);
    assert.equal(sent.events.filter((event) => event.type === "done").length, 3);

    await Deno.mkdir(`${w.dir}/in4`);
    const fourth = await w.spawnCli([
      "receive",
      String(code),
      "--out",
      `${w.dir}/in4`,
      "--yes",
      ...w.rendezvous,
      "--json",
    ]).finished();
    assert.equal(fourth.code, 1);
    assert.match(
      fourth.stderr,
      /Nameplate \d+ (already has a sender and a receiver|has no sender)|No sender is waiting on nameplate \d+/,
    );
    assert.deepEqual(await listDir(`${w.dir}/in4`), []);
  },
  120_000,
);

/**
 * `send shared.txt --receivers N` and its first receiver on a terminal, connected: until it
 * answers the prompt, the sender serves it. Makes `in1`..`in3` for the receivers.
 */
async function servingFirst(w: World, receivers: number, signal: AbortSignal) {
  const source = `${w.dir}/shared.txt`;
  await Deno.writeTextFile(source, "for both");
  const sender = w.send([source], ["--receivers", String(receivers)]);
  const code = String((await sender.next("code")).code);
  for (const index of [1, 2, 3]) await Deno.mkdir(`${w.dir}/in${index}`);
  const first = w.receiveOnTerminal(code, `${w.dir}/in1`);
  await first.until((event) => String(event.line ?? "").startsWith("Connected"), signal);
  return { sender, code, first };
}

e2e(
  "with --receivers a receiver that comes while another is served hears the sender is busy, or with --timeout waits its turn",
  async (signal) => {
    await using w = await world(signal);
    const { sender, code, first } = await servingFirst(w, 2, signal);
    // That receiver asks its user: the sender says it waits for the answer.
    await sender.until((event) => event.type === "waiting" && event.for === "accept", signal);
    const busy = await w.receive(String(code), [], { out: `${w.dir}/in2` }).finished();
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(
      busy.stderr,
      /^error: The sender on nameplate \d+ is busy with another receiver, .*--timeout/,
    );
    const next = w.receive(String(code), ["--timeout", "60"], { out: `${w.dir}/in3` });
    assert.equal((await next.next("waiting", signal)).for, "sender");
    const answer = first.stdin!.getWriter();
    await answer.write(new TextEncoder().encode("y\n"));
    await answer.close();
    const [sent, served, received] = await Promise.all([
      sender.finished(),
      first.finished(),
      next.finished(),
    ]);
    assertSucceeded(sent, served, received);
    assert.equal(await Deno.readTextFile(`${w.dir}/in3/shared.txt`), "for both");
    assert.deepEqual(await listDir(`${w.dir}/in2`), []);
  },
);

boundedTest(
  "with --receivers a sender killed while serving one receiver: the next ones hear it may have stopped, and what to do",
  async (signal) => {
    await using w = await world(signal);
    const { sender, code, first } = await servingFirst(w, 3, signal);
    sender.kill("SIGKILL");
    await sender.finished();
    const busy = await w.receive(String(code), [], { out: `${w.dir}/in2` }).finished();
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(
      busy.stderr,
      /^error: The sender on nameplate \d+ is busy with another receiver, or it stopped while serving one \(the server cannot tell which\): if it serves several, run receive with --timeout 600 to wait for your turn; if it stopped or serves one receiver only, ask the sender for a new code\n$/,
    );
    const waited = await w.receive(String(code), ["--timeout", "2"], { out: `${w.dir}/in3` })
      .finished();
    assert.equal(waited.code, 1, waited.stderr);
    assert.match(
      waited.stderr,
      /^error: The sender on nameplate \d+ was still busy after 2 s: it serves another receiver, or it stopped while serving one \(the server cannot tell which\); wait longer with a larger --timeout, or ask the sender whether it still runs, and if not, for a new code\n$/,
    );
    first.kill("SIGKILL");
    await first.finished();
  },
  { timeoutMs: 60_000, sanitizeResources: false },
);

e2e(
  "with --receivers no receiver coming before --timeout ends the code without counting a failed receiver",
  async (signal) => {
    await using w = await world(signal);
    const source = `${w.dir}/note.txt`;
    await Deno.writeTextFile(source, "for one of two");
    const sender = w.send([source], ["--receivers", "2", "--timeout", "2"]);
    const { code } = await sender.next("code");
    await Deno.mkdir(`${w.dir}/in`);
    assert.equal((await w.receive(String(code)).finished()).code, 0);
    const sent = await sender.finished();
    assert.equal(sent.code, 1, sent.stderr);
    assert.match(sent.stderr, /^error: No receiver connected with code \S+ within 2 s\n$/);
    assert.deepEqual(sent.events.filter((event) => event.type === "receiver").map((e) => e.ok), [
      true,
    ]);
    assert.deepEqual(sent.events.find((event) => event.type === "summary"), {
      type: "summary",
      receivers: 2,
      succeeded: 1,
      failed: 0,
    });
  },
);

e2e(
  "with --receivers a failed transfer keeps the code open, and a wrong code ends it",
  async (signal) => {
    await using w = await world(signal);
    const source = `${w.dir}/note.txt`;
    await Deno.writeTextFile(source, "the sender's note");
    const sender = w.send([source], ["--receivers", "2"]);
    const code = String((await sender.next("code")).code);
    const receive = async (text: string, out: string) => {
      await Deno.mkdir(out, { recursive: true });
      return await w.receive(text, [], { out }).finished();
    };
    // A symlink where the partial would go: this receiver refuses after the PAKE
    // (an existing file no longer does: the new one is written beside it).
    await Deno.mkdir(`${w.dir}/taken`);
    await Deno.symlink("elsewhere", `${w.dir}/taken/note.txt.p2pft-partial`);
    assert.equal((await receive(code, `${w.dir}/taken`)).code, 1);
    const first = await sender.until((event) => event.type === "receiver" && event.receiver === 1);
    assert.equal(first.ok, false);
    assert.equal(first.served, 0);
    const served = await receive(code, `${w.dir}/good`);
    assert.equal(served.code, 0, served.stderr);
    assert.equal(await Deno.readTextFile(`${w.dir}/good/note.txt`), "the sender's note");
    await sender.until((event) => event.type === "receiver" && event.receiver === 2);
    const wrong = `${code.split("-")[0]}-abandon-ability`;
    assert.equal((await receive(wrong, `${w.dir}/guess`)).code, 1);
    const sent = await sender.finished();
    assert.equal(sent.code, 1);
    assert.match(sent.stderr, /error: .*code/i);
    assert.deepEqual(sent.events.find((event) => event.type === "summary"), {
      type: "summary",
      receivers: 2,
      succeeded: 1,
      failed: 2,
    });
    assert.deepEqual(await listDir(`${w.dir}/guess`), []);
  },
);

e2e(
  "stdin cannot go to several receivers, nor with paths, nor --text with paths, nor an empty --text",
  async (signal) => {
    const run = async (args: string[]) => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "send", ...args, "--rendezvous", "127.0.0.1:9"],
        stdin: "null",
        signal,
      }).output();
      return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
    };
    const several = await run(["-", "--receivers", "2"]);
    assert.equal(several.code, 2);
    assert.match(several.stderr, /stdin can be read only once; it cannot be sent to 2 receivers/);
    const mixed = await run(["-", "main.ts"]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /"-" \(stdin\) must be the only thing sent/);
    const both = await run(["--text", "hi", "main.ts"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--text sends a text instead of files; got paths too: main\.ts/);
    const long = await run(["--text", "x".repeat(64 * 1024 + 1)]);
    assert.equal(long.code, 2);
    assert.match(long.stderr, /The text is 65537 bytes; --text takes at most 65536/);
    // An empty text is an unset variable, not a message: refused before a code is spent.
    const empty = await run(["--text", ""]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /^error: --text is empty: nothing to send/);
    assert.doesNotMatch(empty.stderr, /Code is/);
  },
);

e2e(
  "a --code works again at once after a finished or a failed pairing, over UDP and over --tcp",
  async (signal) => {
    await using w = await world(signal);
    await Deno.writeTextFile(`${w.dir}/note.txt`, "hello");
    await Deno.mkdir(`${w.dir}/in`);
    const code = "97-service-scan";
    // Each run starts the moment the last one exited: no room may still hold nameplate 97.
    for (const flags of [[], [], ["--tcp"], ["--tcp"]]) {
      const wrong = await w.transfer([`${w.dir}/note.txt`], {
        both: flags,
        send: ["--code", code],
        typed: wrongWords,
        signal,
      });
      assert.notEqual(wrong.received.code, 0, "the wrong words must fail");
      const { sent, received } = await w.transfer([`${w.dir}/note.txt`], {
        both: flags,
        send: ["--code", code],
        signal,
      });
      assertSucceeded(sent, received);
      assert.equal(await Deno.readTextFile(`${w.dir}/in/note.txt`), "hello");
      await Deno.remove(`${w.dir}/in/note.txt`);
    }
  },
  120_000,
);
