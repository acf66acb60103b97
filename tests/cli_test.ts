/**
 * End-to-end transfers: real `deno run -A main.ts` processes for the rendezvous server, the
 * sender and the receiver, on loopback, and what each side says when one fails (what the CLI says
 * to bad input, help and version is in cli_input_test.ts).
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { assertSucceeded, listDir, world, wrongWords } from "./world.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";

const TEST_TIMEOUT_MS = 60_000;

function e2e(name: string, fn: (signal: AbortSignal) => Promise<void>) {
  boundedTest(name, fn, { timeoutMs: TEST_TIMEOUT_MS });
}

/** This host's addresses, as `connected.remote` would name them. */
const ownAddresses = new Set(["127.0.0.1", ...Deno.networkInterfaces().map((i) => i.address)]);
const hostOf = (remote: string) => remote.replace(/^\[(.*)\]:\d+$|^(.*):\d+$/, "$1$2");

e2e("a 64 MiB file arrives verified through the CLI with --json events", async (signal) => {
  await using w = await world(signal);
  const source = `${w.dir}/big file.bin`;
  await makeRandomFile(source, 64 * 1024 * 1024);
  const expected = await sha256File(source);
  await Deno.mkdir(`${w.dir}/in`);
  const { code, sent, received } = await w.transfer([source]);
  assert.match(code, /^\d+-[a-z]+-[a-z]+$/);
  assertSucceeded(sent, received);
  for (const run of [sent, received]) {
    assert.ok(
      run.events.every((event) => event.type !== "non-json"),
      `non-JSON on stdout: ${run.stdout}`,
    );
    const connected = run.events.find((event) => event.type === "connected")!;
    assert.equal(connected.path, "lan");
    // Both peers run here: the path is to one of this host's own addresses (loopback, or an
    // interface address, IPv6 ones included, whichever answered first).
    assert.ok(ownAddresses.has(hostOf(String(connected.remote))), `remote ${connected.remote}`);
    assert.equal(connected.thisComputer, true);
    assert.equal(typeof connected.rttMs, "number");
    assert.equal(connected.transport, "tcp");
    assert.ok(
      ["private", "server", "peer-reflexive"].includes(String(connected.candidate)),
      `candidate ${connected.candidate}`,
    );
    const nat = connected.nat as { self: string; peer: string };
    assert.deepEqual(Object.keys(nat).sort(), ["peer", "self"]);
    const paired = run.events.find((event) => event.type === "paired")!;
    assert.match(String(paired.nameplate), /^\d+$/);
    assert.match(String(paired.peer), /^127\.0\.0\.1:\d+$/);
    assert.equal(paired.thisComputer, true);
    // The receiver runs with --yes: nobody is asked, so nobody is said to be waited for.
    assert.ok(!run.events.some((event) => event.type === "waiting"), "waiting with --yes");
    const done = run.events.find((event) => event.type === "done")!;
    assert.equal(done.sha256, expected);
    assert.equal(done.bytes, 64 * 1024 * 1024);
    assert.equal(done.path, "lan");
    const progress = run.events.filter((event) => event.type === "progress");
    assert.ok(progress.length >= 1, "no progress events");
    assert.ok(progress.every((event) => Number(event.bytes) <= Number(event.total)));
  }
  assert.deepEqual(await listDir(`${w.dir}/in`), ["big file.bin"]);
  assert.equal(await sha256File(`${w.dir}/in/big file.bin`), expected);
});

e2e("an unknown nameplate fails on both sides with a clear message and no file", async (signal) => {
  await using w = await world(signal);
  await Deno.writeTextFile(`${w.dir}/note.txt`, "hello");
  await Deno.mkdir(`${w.dir}/in`);
  const sender = w.send([`${w.dir}/note.txt`], ["--timeout", "4"]);
  const { code } = await sender.next("code");
  const wrong = String(code).replace(/^\d+/, (n) => String(Number(n) + 50));
  const receiver = w.receive(wrong);
  const received = await receiver.finished();
  assert.equal(received.code, 1);
  assert.match(received.stderr, /^error: No sender is waiting on nameplate \d+/m);
  assert.equal(received.stderr.trim().split("\n").length, 1, received.stderr);
  const sent = await sender.finished();
  assert.equal(sent.code, 1);
  assert.match(sent.stderr, /error: No receiver connected with code .* within 4 s/);
  assert.deepEqual(await listDir(`${w.dir}/in`), []);
});

e2e(
  "the right nameplate with wrong words fails on both sides with a code mismatch and no file",
  async (signal) => {
    await using w = await world(signal);
    await Deno.writeTextFile(`${w.dir}/secret.txt`, "attack at dawn");
    await Deno.mkdir(`${w.dir}/in`);
    const { sent, received } = await w.transfer([`${w.dir}/secret.txt`], { typed: wrongWords });
    for (const run of [sent, received]) {
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /code mismatch/i);
      assert.ok(!run.events.some((event) => event.type === "done"));
    }
    assert.deepEqual(await listDir(`${w.dir}/in`), []);
  },
);

e2e(
  "a file removed after it was offered fails both sides by its offered name, not its absolute path",
  async (signal) => {
    await using w = await world(signal);
    await Deno.writeTextFile(`${w.dir}/gone.txt`, "soon gone");
    await Deno.mkdir(`${w.dir}/in`);
    const sender = w.send([`${w.dir}/gone.txt`]);
    const { code } = await sender.next("code");
    await Deno.remove(`${w.dir}/gone.txt`);
    const receiver = w.receive(String(code));
    const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
    const reason = "Cannot send gone.txt after offering it: No such file or directory";
    assert.equal(sent.code, 1, sent.stderr);
    assert.equal(sent.stderr, `error: ${reason}\n`);
    assert.equal(received.code, 1, received.stderr);
    assert.equal(received.stderr, `error: The sender stopped: ${reason}\n`);
    assert.ok(!(await listDir(`${w.dir}/in`)).includes("gone.txt"));
  },
);

e2e("an existing file is never overwritten", async (signal) => {
  await using w = await world(signal);
  await Deno.writeTextFile(`${w.dir}/report.txt`, "new version");
  await Deno.mkdir(`${w.dir}/in`);
  await Deno.writeTextFile(`${w.dir}/in/report.txt`, "precious old version");
  const { sent, received } = await w.transfer([`${w.dir}/report.txt`]);
  // Written beside it (issue #21): the old one stays, the transfer does not fail.
  assert.equal(received.code, 0, received.stderr);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(await Deno.readTextFile(`${w.dir}/in/report.txt`), "precious old version");
  assert.equal(await Deno.readTextFile(`${w.dir}/in/report (1).txt`), "new version");
  assert.deepEqual(await listDir(`${w.dir}/in`), ["report (1).txt", "report.txt"]);
});

e2e("a sender killed mid-transfer leaves no file under the final name", async (signal) => {
  await using w = await world(signal);
  const source = `${w.dir}/movie.bin`;
  await makeRandomFile(source, 512 * 1024 * 1024);
  await Deno.mkdir(`${w.dir}/in`);
  const sender = w.send([source]);
  const { code } = await sender.next("code");
  const receiver = w.receive(String(code));
  await receiver.next("progress");
  sender.kill("SIGKILL");
  const received = await receiver.finished();
  assert.equal(received.code, 1);
  assert.equal(received.stderr.trim().split("\n").length, 1, received.stderr);
  const names = await listDir(`${w.dir}/in`);
  assert.ok(!names.includes("movie.bin"), `final name present: ${names}`);
  assert.deepEqual(names, ["movie.bin.p2pft-partial"]);
});
