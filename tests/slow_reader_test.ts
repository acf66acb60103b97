/**
 * What reads `--json` holds no transfer: a reader that does not read for a while (a busy script, a
 * pager) and one that goes away (`| head -1`). Real processes on loopback; before, the first
 * stalled the receiver in a synchronous write to a full pipe until its sender gave it up as lost,
 * and the second ended the sender with an uncaught "Broken pipe" and a stack trace.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { assertSameFile, listDir, world } from "./world.ts";

const TEST_TIMEOUT_MS = 90_000;
const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A tree whose offer and manifest events (about 75 bytes an entry) outgrow a 64 KiB pipe. */
async function bigListing(dir: string, files: number): Promise<void> {
  for (let i = 0; i < files; i++) {
    const folder = `${dir}/d${String(i % 20).padStart(2, "0")}`;
    if (i < 20) await Deno.mkdir(folder, { recursive: true });
    await Deno.writeTextFile(`${folder}/file-with-a-longish-name-${i}.txt`, `${i}\n`);
  }
}

/** `deno run main.ts ARGS` whose stdout the test reads when it wants to, or never. */
function spawnMain(args: string[], cwd: string, signal: AbortSignal) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", P2PFT_RENDEZVOUS: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).spawn();
  return { child, stderr: new Response(child.stderr).text() };
}

boundedTest(
  "a --json reader that reads nothing until the sender is done holds up no transfer, and gets every event in order",
  async (signal) => {
    await using w = await world(signal);
    await bigListing(`${w.dir}/tree`, 3000);
    await Deno.mkdir(`${w.dir}/in`);
    const sender = w.send(["tree"]);
    const { code } = await sender.next("code", signal);
    const receiver = spawnMain(
      ["receive", String(code), "--out", "in", "--yes", ...w.rendezvous, "--json"],
      w.dir,
      signal,
    );
    // The receiver's stdout is not read before the sender has finished.
    const sent = await sender.finished();
    assert.equal(sent.code, 0, sent.stderr);
    const [stdout, status] = await Promise.all([
      new Response(receiver.child.stdout).text(),
      receiver.child.status,
    ]);
    const said = await receiver.stderr;
    assert.equal(status.code, 0, said);
    assert.equal(said, "");
    const events = stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    const kinds = events.map((event) => event.type).filter((type, i, all) => type !== all[i - 1]);
    assert.deepEqual(kinds, [
      "nat",
      "paired",
      "connected",
      "offer",
      "manifest",
      "progress",
      "done",
    ]);
    // Every entry (3,000 files, 20 folders and tree/ itself), in the offer and the manifest.
    const listed = events.filter((event) => event.type === "offer" || event.type === "manifest")
      .reduce((sum, event) => sum + event.entries.length, 0);
    assert.equal(listed, 3021);
    const times = events.map((event) => event.t);
    assert.deepEqual(times, times.toSorted((a, b) => a - b));
    assert.equal((await listDir(`${w.dir}/in/tree`)).length, 20);
  },
  { timeoutMs: TEST_TIMEOUT_MS },
);

boundedTest(
  "a sender whose --json reader went away after the code still sends, and exits 0 without a stack trace",
  async (signal) => {
    await using w = await world(signal);
    const source = `${w.dir}/notes.bin`;
    await Deno.writeFile(source, crypto.getRandomValues(new Uint8Array(60_000)));
    await Deno.mkdir(`${w.dir}/in`);
    const { child, stderr } = spawnMain(["send", source, ...w.rendezvous, "--json"], w.dir, signal);
    // As `| head -1` would: read the first lines up to the code, then close the pipe.
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes('"type":"code"')) {
      const { value, done } = await reader.read();
      if (done) assert.fail(`the sender ended before its code: ${await stderr}`);
      text += value;
    }
    await reader.cancel();
    const code = /"code":"([^"]+)"/.exec(text)![1];
    const received = await w.receive(code).finished();
    assert.equal(received.code, 0, received.stderr);
    const status = await child.status;
    const said = await stderr;
    assert.equal(status.code, 0, said);
    assert.equal(said, "");
    await assertSameFile(`${w.dir}/in/notes.bin`, source);
  },
  { timeoutMs: TEST_TIMEOUT_MS },
);
