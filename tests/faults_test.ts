/**
 * Faults through the real CLI (issue 13, parts 2 to 4): a peer that goes
 * silent in each phase (tests/security/staller.ts), a peer killed or frozen
 * mid-transfer, a rendezvous server restarted while a sender waits, and a
 * receiver started before its sender.
 */
import assert from "node:assert/strict";
import { arrivalMs, type CliRun } from "../scripts/cli_process.ts";
import { makeRandomFile } from "../scripts/files.ts";
import { formatCode, generateWords } from "../peer/mod.ts";
import { boundedTest } from "./bounded.ts";
import { assertSameFile, bothSucceed, listDir, sendToPrompt, type World, world } from "./world.ts";

const STALLER = new URL("./security/staller.ts", import.meta.url);
/** `--stall-timeout` in these tests, seconds. */
const STALL_S = 2;

function faultTest(name: string, fn: (signal: AbortSignal) => Promise<void>) {
  // Processes killed on purpose close their pipes asynchronously.
  boundedTest(name, fn, { timeoutMs: 90_000, sanitizeResources: false });
}

/** Milliseconds from `event` (the staller fell silent) to `end` (the other side exited). */
function since(event: Parameters<typeof arrivalMs>[0], end: number): number {
  return end - arrivalMs(event)!;
}

interface Ended {
  code: number;
  stderr: string;
  at: number;
}

async function ended(run: CliRun): Promise<Ended> {
  const result = await run.finished();
  return { code: result.code, stderr: result.stderr.trim(), at: performance.now() };
}

/**
 * `run` failed with `message`. How soon is not measured (no test asserts a duration): the message
 * names the keepalive limit that fired, and the test's own deadline catches a run that never ends.
 */
async function assertNoticed(run: CliRun, message: RegExp): Promise<void> {
  const result = await ended(run);
  assert.equal(result.code, 1);
  assert.match(result.stderr, message);
}

const STALL_AS_SENDER: Array<{ phase: string; error: RegExp }> = [
  { phase: "pake", error: /The sender did not complete the PAKE within 10 s/ },
  { phase: "offer", error: /sent no complete offer within 2 s \(offer phase\)/ },
  {
    phase: "decision",
    error: /did not start the data within 2 s \(decision phase\)/,
  },
  {
    phase: "data",
    error: /stalled: nothing moved to or from the sender for 2 s \(data phase\)/,
  },
];

for (const { phase, error } of STALL_AS_SENDER) {
  faultTest(
    `a sender gone silent in the ${phase} phase ends the receiver within its deadline`,
    async (signal) => {
      await using w = await world(signal);
      await Deno.mkdir(`${w.dir}/in`);
      const staller = w.spawnScript(STALLER, ["--rendezvous", w.server, "send", phase]);
      const { code } = await staller.next("code", signal);
      const receiver = w.receive(String(code), ["--stall-timeout", String(STALL_S)]);
      await staller.next("silent", signal);
      const received = await ended(receiver);
      assert.equal(received.code, 1, received.stderr);
      assert.match(received.stderr, error);
      assert.equal(received.stderr.split("\n").length, 1, received.stderr);
      // The staller heard why.
      const end = await staller.next("peer-end", signal);
      assert.equal(end.failed, true);
      assert.match(String(end.message), error);
      if (phase === "data") {
        // Kept for a resume; bytes of a segment that never completed are read ahead, not written.
        assert.deepEqual(await listDir(`${w.dir}/in`), ["stalled.bin.p2pft-partial"]);
        assert.ok((await Deno.stat(`${w.dir}/in/stalled.bin.p2pft-partial`)).size <= 64 * 1024);
      } else {
        assert.deepEqual(await listDir(`${w.dir}/in`), []);
      }
    },
  );
}

const STALL_AS_RECEIVER: Array<{ phase: string; error: RegExp }> = [
  { phase: "pake", error: /The receiver did not complete the PAKE within 10 s/ },
  { phase: "decision", error: /The receiver did not accept within 4 s/ },
  { phase: "data", error: /nothing moved to or from the receiver for 2 s/ },
  {
    phase: "confirmation",
    error: /did not confirm the files within 2 s \(confirmation phase\)/,
  },
];

for (const { phase, error } of STALL_AS_RECEIVER) {
  faultTest(
    `a receiver gone silent in the ${phase} phase ends the sender within its deadline`,
    async (signal) => {
      await using w = await world(signal);
      // Larger than the QUIC flow-control windows, so a receiver that stops reading stops the sender.
      await makeRandomFile(`${w.dir}/data.bin`, phase === "data" ? 48 << 20 : 1 << 20);
      const sender = w.send([`${w.dir}/data.bin`], [
        "--timeout",
        phase === "decision" ? "4" : "30",
        "--stall-timeout",
        String(STALL_S),
      ]);
      const { code } = await sender.next("code", signal);
      const staller = w.spawnScript(STALLER, [
        "--rendezvous",
        w.server,
        "receive",
        phase,
        String(code),
      ]);
      await staller.next("silent", signal);
      const sent = await ended(sender);
      assert.equal(sent.code, 1, sent.stderr);
      assert.match(sent.stderr, error);
      if (phase === "decision") {
        assert.ok(
          sender.events.some((event) => event.type === "waiting" && event.for === "accept"),
        );
      }
      const end = await staller.next("peer-end", signal);
      assert.equal(end.failed, true);
      assert.match(String(end.message), error);
    },
  );
}

faultTest(
  "a sender whose --timeout runs out after a receiver paired says so, and the receiver reads why",
  async (signal) => {
    await using w = await world(signal);
    await Deno.writeTextFile(`${w.dir}/note.txt`, "never sent");
    // Longer than pairing and linking take, shorter than the PAKE's own 10 s deadline: it runs
    // out while the receiver stalls in the PAKE.
    const sender = w.send([`${w.dir}/note.txt`], ["--timeout", "9"]);
    const { code } = await sender.next("code", signal);
    const staller = w.spawnScript(STALLER, [
      "--rendezvous",
      w.server,
      "receive",
      "pake",
      String(code),
    ]);
    await staller.next("silent", signal);
    const sent = await ended(sender);
    assert.equal(sent.code, 1, sent.stderr);
    assert.equal(
      sent.stderr,
      `error: A receiver paired with code ${code}, but the connection to it was not set up within --timeout (9 s)`,
    );
    const end = await staller.next("peer-end", signal);
    assert.equal(end.failed, true);
    // Before: "Signal timed out."
    assert.equal(end.message, "its --timeout (9 s) ran out before the connection was set up");
  },
);

/** A sender and receiver mid-way through a 1 GiB file (sparse on the sending side). */
async function midTransfer(w: World, signal: AbortSignal, extra: string[] = []) {
  const big = await Deno.open(`${w.dir}/big.bin`, { write: true, create: true });
  await big.truncate(1 << 30);
  big.close();
  await Deno.mkdir(`${w.dir}/in`);
  const sender = w.send([`${w.dir}/big.bin`], extra);
  const { code } = await sender.next("code", signal);
  const receiver = w.receive(String(code), extra);
  await receiver.until((event) => event.type === "progress" && Number(event.bytes) > 16 << 20);
  return { sender, receiver };
}

/**
 * How each transport words a killed peer: QUIC hears nothing for its idle
 * timeout; over TCP the dead side's kernel (or the dead relay's) cuts the connection.
 */
const KILLED = {
  tcp: (peer: string) => `Lost the connection to the ${peer}: the TCP connection was cut`,
  quic: (peer: string) => `Lost the connection to the ${peer}: no answer for 4 s`,
} as const;

for (const transport of ["tcp", "quic"] as const) {
  const flags = ["--transport", transport];
  const killed = (peer: string) => new RegExp(`^error: ${KILLED[transport](peer)}$`);

  faultTest(
    `kill -9 of the receiver mid-transfer is noticed by the sender (${transport})`,
    async (signal) => {
      await using w = await world(signal);
      const { sender, receiver } = await midTransfer(w, signal, flags);
      receiver.kill("SIGKILL");
      await assertNoticed(sender, killed("receiver"));
    },
  );

  faultTest(
    `kill -9 of the sender mid-transfer is noticed; the partial is kept (${transport})`,
    async (signal) => {
      await using w = await world(signal);
      const { sender, receiver } = await midTransfer(w, signal, flags);
      sender.kill("SIGKILL");
      await assertNoticed(receiver, killed("sender"));
      const partial = await Deno.stat(`${w.dir}/in/big.bin.p2pft-partial`);
      assert.ok(partial.size > 16 << 20, `partial of ${partial.size} bytes`);
    },
  );

  faultTest(
    `a frozen receiver (SIGSTOP) is noticed by the sender (${transport})`,
    async (signal) => {
      await using w = await world(signal);
      const { sender, receiver } = await midTransfer(w, signal, flags);
      receiver.kill("SIGSTOP");
      await assertNoticed(
        sender,
        /^error: Lost the connection to the receiver: no answer for 4 s$/,
      );
      receiver.kill("SIGKILL");
    },
  );

  faultTest(
    `kill -9 of the server mid-relay: both sides say the relay stopped (${transport})`,
    async (signal) => {
      await using w = await world(signal);
      const { sender, receiver } = await midTransfer(w, signal, ["--relay-only", ...flags]);
      const connected = await receiver.next("connected", signal);
      assert.equal(connected.path, "relay");
      assert.equal(connected.transport, transport);
      w.serve.kill("SIGKILL");
      const [sent, received] = await Promise.all([ended(sender), ended(receiver)]);
      for (const [run, peer] of [[sent, "receiver"], [received, "sender"]] as const) {
        assert.equal(run.code, 1);
        assert.match(
          run.stderr,
          new RegExp(
            `^error: The relay stopped: the rendezvous server 127\\.0\\.0\\.1:\\d+ that relayed the link does not answer \\(${
              KILLED[transport](peer)
            }\\)$`,
          ),
        );
      }
      const partial = await Deno.stat(`${w.dir}/in/big.bin.p2pft-partial`);
      assert.ok(partial.size > 16 << 20, `partial of ${partial.size} bytes`);
    },
  );
}

faultTest(
  "a QUIC sender frozen (SIGSTOP) until its receiver gave up exits at once on SIGCONT, saying why",
  async (signal) => {
    await using w = await world(signal);
    const flags = ["--transport", "quic"];
    const { sender, receiver } = await midTransfer(w, signal, flags);
    sender.kill("SIGSTOP");
    await assertNoticed(receiver, /^error: Lost the connection to the sender: no answer for 4 s$/);
    // The user leaves it stopped a while longer (as after a Ctrl-Z): the scenario, not a wait.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    sender.kill("SIGCONT");
    // Not the 30 s stall, nor QUIC's idle timer stretched by the pause: this side knows why.
    await assertNoticed(
      sender,
      /^error: Lost the connection to the receiver: this side was paused for \d+\.\d s \(the receiver gives up after 4 s\)$/,
    );
  },
);

faultTest("a waiting sender survives kill -9 and restart of the server", async (signal) => {
  await using w = await world(signal);
  await makeRandomFile(`${w.dir}/note.bin`, 100_000);
  await Deno.mkdir(`${w.dir}/in`);
  const sender = w.send([`${w.dir}/note.bin`]);
  const { code } = await sender.next("code", signal);
  w.serve.kill("SIGKILL");
  await w.serve.finished();
  const port = w.server.split(":")[1];
  const serve = w.spawnCli(["serve", "--host", "127.0.0.1", "--port", port, "--json"]);
  await serve.next("listening", signal);
  // The restarted server has no room until the sender's next poll finds its own gone and makes it
  // again; a receiver that came first would hear "No sender is waiting" and end, as a person's
  // would. This one waits for its sender (--timeout), so what is tested is the sender's survival.
  const receiver = w.receive(String(code), ["--timeout", "30"]);
  await bothSucceed(sender, receiver);
  await assertSameFile(`${w.dir}/in/note.bin`, `${w.dir}/note.bin`);
});

faultTest("a receiver started first waits for the sender within --timeout", async (signal) => {
  await using w = await world(signal);
  await makeRandomFile(`${w.dir}/note.bin`, 100_000);
  await Deno.mkdir(`${w.dir}/in`);
  const code = formatCode({ nameplate: "77", words: generateWords() });
  const receiver = w.receive(code, ["--timeout", "60"]);
  const waiting = await receiver.next("waiting", signal);
  assert.deepEqual(waiting, { type: "waiting", for: "sender", seconds: 60 });
  const sender = w.send([`${w.dir}/note.bin`], ["--code", code]);
  await bothSucceed(sender, receiver);
  await assertSameFile(`${w.dir}/in/note.bin`, `${w.dir}/note.bin`);
});

faultTest("a receiver alone past --timeout gets 'No sender is waiting'", async (signal) => {
  await using w = await world(signal);
  await Deno.mkdir(`${w.dir}/in`);
  const code = formatCode({ nameplate: "78", words: generateWords() });
  const receiver = w.receive(code, ["--timeout", "2"]);
  const waiting = await receiver.next("waiting", signal);
  const received = await ended(receiver);
  assert.equal(received.code, 1);
  assert.match(received.stderr, /^error: No sender is waiting on nameplate 78 /);
  assert.ok(since(waiting, received.at) >= 1_500, "it did not wait");
});

for (const flags of [[], ["--relay-only"]]) {
  for (const stopped of ["sender", "receiver"] as const) {
    const peer = stopped === "sender" ? "receiver" : "sender";
    faultTest(
      `a ${stopped} stopped (Ctrl-C) between pairing and the link tells the ${peer} why (${
        flags.join(" ") || "default"
      })`,
      async (signal) => {
        await using w = await world(signal);
        await Deno.writeTextFile(`${w.dir}/note.txt`, "never sent");
        await Deno.mkdir(`${w.dir}/in`);
        const sender = w.send([`${w.dir}/note.txt`], flags);
        const { code } = await sender.next("code", signal);
        const receiver = w.receive(String(code), flags);
        const runs = { sender, receiver };
        // The receiver pauses as soon as it is paired, so the link cannot come up before the
        // other side is stopped: it goes on once the stop is under way.
        await receiver.next("paired", signal);
        receiver.kill("SIGSTOP");
        await sender.next("paired", signal);
        runs[stopped].kill("SIGINT");
        receiver.kill("SIGCONT");
        const [interrupted, told] = await Promise.all([ended(runs[stopped]), ended(runs[peer])]);
        assert.equal(interrupted.code, 130, interrupted.stderr);
        assert.equal(told.code, 1, told.stderr);
        assert.equal(told.stderr, `error: The ${stopped} stopped: Interrupted`);
        assert.deepEqual(await listDir(`${w.dir}/in`), []);
      },
    );
  }
}

faultTest(
  "Ctrl-C at the receiver's prompt: the sender says the receiver stopped, not that a stream ended",
  async (signal) => {
    await using w = await world(signal);
    await Deno.writeTextFile(`${w.dir}/note.txt`, "never accepted");
    await Deno.mkdir(`${w.dir}/in`);
    const { sender, receiver, keys } = await sendToPrompt(
      w,
      [`${w.dir}/note.txt`],
      "note.txt",
      signal,
    );
    // The person presses Ctrl-C: the terminal sends the receiver SIGINT.
    await keys.write(new TextEncoder().encode("\x03"));
    await keys.close();
    const sent = await ended(sender);
    assert.equal(sent.code, 1, sent.stderr);
    assert.equal(sent.stderr, "error: The receiver stopped: Interrupted");
    await receiver.finished();
    assert.deepEqual(await listDir(`${w.dir}/in`), []);
  },
);
