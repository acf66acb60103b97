/**
 * Everyday use through the real CLI: a text, a stream from stdin to stdout,
 * files already there, a code used again (several receivers: receivers_test.ts).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { boundedTest } from "./bounded.ts";
import { assertSucceeded, bothSucceed, listDir, type World, world, wrongWords } from "./world.ts";

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

e2e("a file sent whole is done without '(13 B sent now)' beside its own size", async (signal) => {
  await using w = await world(signal);
  await Deno.writeTextFile(`${w.dir}/new.txt`, "a new file...");
  await Deno.mkdir(`${w.dir}/in`);
  const received = await receivedOnScreen(w, `${w.dir}/new.txt`);
  assert.match(received.stdout, /^Done: 1 file, 13 B in \d+\.\d s, .* via lan; sha256 /m);
});

e2e(
  "send --text - on a terminal says to type the text; send - on a terminal says what it is for",
  async (signal) => {
    await using w = await world(signal);
    // Before: a cursor waiting with no word of why.
    const typing = w.onTerminal(["send", "--text", "-", ...w.rendezvous]);
    await typing.until((event) => String(event.line ?? "").startsWith("Type the text"), signal);
    const keys = typing.stdin!.getWriter();
    await keys.write(new TextEncoder().encode("typed here\n\x04"));
    await typing.until((event) => String(event.line ?? "").startsWith("Code is:"), signal);
    await keys.write(new TextEncoder().encode("\x03"));
    await keys.close();
    const typed = await typing.finished();
    assert.match(typed.stdout, /^Type the text, then press Enter and Ctrl-D:\r?\n/);
    assert.match(typed.stdout, /^Sending a text \(11 B\)\r?$/m);
    // Before: it read the terminal as a file until Ctrl-D.
    const dash = w.onTerminal(["send", "-", ...w.rendezvous]);
    const piped = await dash.finished();
    await dash.stdin!.close().catch(() => {});
    assert.match(
      piped.stdout,
      /^error: "-" sends what is piped into p2pft \(tar c dir \| p2pft send -\), but stdin is this terminal; to type a text, use --text -\r?$/m,
    );
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

e2e(
  "receive --stdout into a reader that stops (| head) says so in words, both sides",
  async (signal) => {
    await using w = await world(signal);
    await Deno.writeFile(`${w.dir}/big.bin`, new Uint8Array(8 * 1024 * 1024));
    const sender = w.send([`${w.dir}/big.bin`]);
    const { code } = await sender.next("code", signal);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "receive", String(code), "--stdout", "--yes", ...w.rendezvous],
      cwd: w.dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).spawn();
    const stderr = new Response(child.stderr).text();
    // Like `| head -c 1`: read a little, then close the pipe.
    const reader = child.stdout.getReader();
    await reader.read();
    await reader.cancel();
    const [status, received, sent] = await Promise.all([child.status, stderr, sender.finished()]);
    assert.equal(status.code, 1, received);
    // Before: "error: Broken pipe (os error 32)", and the sender "The receiver stopped: Broken pipe (os error 32)".
    const why =
      "Stdout was closed by the program reading it (broken pipe); the rest was not received";
    assert.match(received, new RegExp(`^error: ${why.replace(/[()]/g, "\\$&")}$`, "m"));
    assert.equal(sent.code, 1);
    assert.equal(sent.stderr, `error: The receiver stopped: ${why}\n`);
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
