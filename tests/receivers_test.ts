/**
 * One code for several receivers (`send --receivers N`) through the real CLI: each
 * verified in turn, a receiver that comes while another is served, a sender gone
 * while serving, the code's end by --timeout, failure or a wrong code.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { assertSucceeded, listDir, type World, world } from "./world.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";

function e2e(name: string, fn: (signal: AbortSignal) => Promise<void>, timeoutMs = 60_000) {
  boundedTest(name, fn, { timeoutMs });
}

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
    // The first receiver already waits at the server when the sender starts, so its turn does
    // not race --timeout on a loaded host (--timeout bounds pairing and the link, not start-up).
    const code = "7-lunar-crystal";
    await Deno.mkdir(`${w.dir}/in`);
    const first = w.receive(code, ["--timeout", "60"]);
    assert.equal((await first.next("waiting", signal)).for, "sender");
    const sender = w.send([source], ["--code", code, "--receivers", "2", "--timeout", "5"]);
    assert.equal((await first.finished()).code, 0);
    const sent = await sender.finished();
    assert.equal(sent.code, 1, sent.stderr);
    assert.match(
      sent.stderr,
      /^error: No receiver connected with code 7-lunar-crystal within 5 s\n$/,
    );
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
