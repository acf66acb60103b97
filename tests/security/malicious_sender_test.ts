/**
 * A hostile sender (malicious_sender.ts: real pairing, hand-written transfer
 * frames) against the real receiver CLI. For every case the receiver must
 * exit 1 with one `error:` line naming the problem, tell the sender why in an
 * ERROR frame with the documented code, and write NOTHING: the tree around
 * --out (a sentinel parent, a dir outside it, the receiver's cwd) is compared
 * byte for byte before and after.
 */
import assert from "node:assert/strict";
import { HOSTILE_CASES } from "./_hostile_cases.ts";
import { boundedTest } from "../bounded.ts";
import { type World, world } from "../world.ts";

const SCRIPT = new URL("./malicious_sender.ts", import.meta.url);
/** Cases run at once within a test (each is two `deno` processes). */
const CONCURRENCY = 4;

/** Every path under `root` with its content (files), "dir" or its link target. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string, prefix: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      const key = prefix + entry.name;
      if (entry.isSymlink) out[key] = `symlink -> ${await Deno.readLink(path)}`;
      else if (entry.isDirectory) {
        out[key] = "dir";
        await walk(path, `${key}/`);
      } else out[key] = `file: ${await Deno.readTextFile(path)}`;
    }
  };
  await walk(root, "");
  return out;
}

async function runCase(w: World, name: string, signal: AbortSignal): Promise<void> {
  const hostile = HOSTILE_CASES[name];
  const root = `${w.dir}/${name}`;
  const out = `${root}/sentinel/out`;
  const elsewhere = `${root}/elsewhere`;
  const cwd = `${root}/cwd`;
  for (const path of [out, elsewhere, cwd]) await Deno.mkdir(path, { recursive: true });
  await hostile.setup?.(out, elsewhere);
  const before = await snapshot(root);

  const sender = w.spawnScript(SCRIPT, ["--rendezvous", w.server, name]);
  const { code } = await sender.next("code", signal);
  const receiver = w.spawnCli(
    [
      "receive",
      String(code),
      "--out",
      out,
      "--yes",
      ...w.rendezvous,
      ...hostile.receiveArgs ?? [],
      "--json",
    ],
    { cwd },
  );
  const [received, sent] = await Promise.all([receiver.finished(), sender.finished()]);

  const label = `${name}: receiver stderr ${JSON.stringify(received.stderr)}`;
  assert.equal(received.code, 1, label);
  assert.equal(received.stderr.trim().split("\n").length, 1, label);
  assert.match(received.stderr.trim(), hostile.expect.stderr, label);
  assert.ok(!received.events.some((event) => event.type === "done"), label);
  assert.ok(received.events.some((event) => event.type === "connected"), label);

  assert.equal(sent.code, 0, `${name}: sender stderr ${sent.stderr}`);
  const peerError = sent.events.find((event) => event.type === "peer-error");
  assert.ok(peerError, `${name}: no ERROR frame reached the sender: ${sent.stdout}`);
  assert.equal(peerError.code, hostile.expect.errorCode, `${name}: ${peerError.message}`);
  if (hostile.expect.plan) {
    const plan = sent.events.find((event) => event.type === "plan");
    assert.deepEqual(plan?.items, hostile.expect.plan, name);
  }

  assert.deepEqual(await snapshot(root), before, `${name}: the file system changed`);
  await assert.rejects(Deno.lstat("/abs"), Deno.errors.NotFound);
}

/** Runs `names` with at most CONCURRENCY at once against one rendezvous server. */
function hostileGroup(title: string, names: string[]): void {
  boundedTest(
    `a hostile sender cannot make the receiver write anything: ${title}`,
    async (signal) => {
      await using w = await world(signal);
      const queue = [...names];
      const failures: string[] = [];
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
          await runCase(w, name, signal).catch((error) =>
            failures.push(`${name}: ${error.message}`)
          );
        }
      }));
      assert.deepEqual(failures, []);
    },
  );
}

const GROUPS: Record<string, string[]> = {
  "unsafe names": [
    "dot-dot",
    "absolute",
    "reserved-suffix",
    "nul-in-name",
    "long-segment",
    "dot-segment",
    "empty-segment",
  ],
  // Windows device names, trailing dots or spaces and case collisions are not
  // here: the receiver refuses them only where its own file system cannot hold
  // them (transfer/PROTOCOL.md, "Names this file system cannot hold";
  // transfer/name_rules_test.ts), and these tests run on a case-sensitive Linux one.
  "symlinks and existing files": [
    "symlink-partial",
    "existing-file-same-size",
    "existing-file-other-size",
  ],
  "lying sizes and hashes before the data, bad frames": [
    "size-lie-more",
    "size-lie-fewer",
    "wrong-hash",
    "oversized-frame",
    "unknown-frame-type",
  ],
  // A sender that breaks the DATA framing leaves no .p2pft-partial behind: the
  // snapshot check in runCase covers the folder.
  "lying sizes inside the data stream (no partial file left behind)": [
    "size-lie-more-in-data",
    "size-lie-fewer-in-data",
  ],
};

for (const [title, names] of Object.entries(GROUPS)) hostileGroup(title, names);

Deno.test("every hostile case is run by a test", () => {
  assert.deepEqual(Object.values(GROUPS).flat().sort(), Object.keys(HOSTILE_CASES).sort());
});
