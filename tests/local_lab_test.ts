/**
 * Local discovery through the real CLI in the network lab: hostA and hostA2
 * share a LAN, hostB is in the other home. No rendezvous server runs in these
 * scenarios; the bytes' SHA-256 is checked.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { type CliRun, spawnCli } from "../scripts/cli_process.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";
import { createLab, type Ipv6Mode, type Lab, labSkip } from "./lab/mod.ts";
import { listDir } from "./world.ts";

const skip = await labSkip();

type Host = "hostA" | "hostA2" | "hostB" | "rendezvous";

interface Run {
  lab: Lab;
  dir: string;
  spawn(host: Host, args: string[]): CliRun;
}

function labTest(
  name: string,
  timeoutMs: number,
  fn: (run: Run) => Promise<void>,
  ipv6?: Ipv6Mode,
) {
  boundedTest(`${name}${skip.note}`, async (signal) => {
    const dir = await Deno.makeTempDir({ prefix: "p2pft-local-" });
    const runs: CliRun[] = [];
    const killAll = () => runs.forEach((run) => run.kill("SIGKILL"));
    signal.addEventListener("abort", killAll, { once: true });
    try {
      await using lab = await createLab({
        natA: "endpoint-independent",
        natB: "endpoint-independent",
        ...(ipv6 ? { ipv6 } : {}),
        signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
      });
      await fn({
        lab,
        dir,
        spawn(host, args) {
          signal.throwIfAborted();
          // No $P2PFT_RENDEZVOUS from the environment: these runs decide about the server.
          const run = spawnCli(args, {
            wrapper: ["ip", "netns", "exec", lab[host].ns],
            cwd: dir,
            env: { P2PFT_RENDEZVOUS: "" },
          });
          runs.push(run);
          return run;
        },
      });
    } finally {
      signal.removeEventListener("abort", killAll);
      killAll();
      await Promise.all(runs.map((run) => run.finished()));
      await Deno.remove(dir, { recursive: true });
    }
  }, { timeoutMs, ignore: skip.ignore, sanitizeResources: false });
}

function event(run: { events: Array<Record<string, unknown>> }, type: string) {
  return run.events.find((e) => e.type === type);
}

/** Sends a fresh file from hostA to `receiver` with `args` on both sides; returns both runs. */
async function transfer(run: Run, receiver: Host, args: string[], name = "run") {
  const work = `${run.dir}/${name}`;
  const source = `${work}/payload.bin`;
  await Deno.mkdir(`${work}/in`, { recursive: true });
  await makeRandomFile(source, 1024 * 1024);
  const sender = run.spawn("hostA", ["send", source, "--timeout", "40", "--json", ...args]);
  const { code } = await sender.next("code");
  const receiving = run.spawn(receiver, [
    "receive",
    String(code),
    "--out",
    `${work}/in`,
    "--yes",
    "--json",
    ...args,
  ]);
  const received = await receiving.finished();
  if (received.code !== 0) sender.kill("SIGKILL"); // it would wait for a receiver until --timeout
  return { sent: await sender.finished(), received, expected: await sha256File(source), work };
}

async function assertFoundOnLan(run: Run, outcome: Awaited<ReturnType<typeof transfer>>) {
  assert.equal(outcome.received.code, 0, `receiver: ${outcome.received.stderr}`);
  assert.equal(outcome.sent.code, 0, `sender: ${outcome.sent.stderr}`);
  assert.equal(await sha256File(`${outcome.work}/in/payload.bin`), outcome.expected);
  for (const side of [outcome.sent, outcome.received]) {
    assert.equal(event(side, "paired")?.found, "local", JSON.stringify(event(side, "paired")));
    assert.equal(event(side, "connected")?.path, "lan", JSON.stringify(event(side, "connected")));
    assert.equal(event(side, "done")?.sha256, outcome.expected);
  }
  // Host A's own address: IPv6 in brackets (`[2001:db8:a::10]:port`), as `connected` prints it.
  const ip = run.lab.hostA.ip;
  assert.match(
    String(event(outcome.received, "connected")?.remote),
    new RegExp(`^${(ip.includes(":") ? `[${ip}]` : ip).replace(/[.[\]]/g, "\\$&")}:\\d+$`),
  );
}

/** Host A sends to host A2 on its LAN with no server at all: found locally, no warning. */
async function sameLanWithoutServer(run: Run): Promise<void> {
  const outcome = await transfer(run, "hostA2", []);
  await assertFoundOnLan(run, outcome);
  for (const side of [outcome.sent, outcome.received]) {
    assert.equal(event(side, "warning"), undefined);
  }
}

labTest(
  "lab: two hosts on one LAN and no rendezvous server find each other",
  90_000,
  sameLanWithoutServer,
);

labTest(
  "lab: two hosts on an IPv6-only LAN and no rendezvous server find each other over ff02::fb",
  90_000,
  async (run) => {
    assert.equal(run.lab.hostA.ip, run.lab.hostA.ip6, "home A has IPv4");
    await sameLanWithoutServer(run);
  },
  "only",
);

labTest(
  "lab: two dual-stack hosts on one LAN and no rendezvous server, announced on both groups, take the LAN",
  90_000,
  sameLanWithoutServer,
  "dual",
);

labTest(
  "lab: without a rendezvous server a receiver in the other home fails clearly and writes nothing",
  90_000,
  async (run) => {
    const { received, work } = await transfer(run, "hostB", []);
    assert.equal(received.code, 1, received.stderr);
    assert.match(
      received.stderr,
      /^error: No sender with nameplate \d+ answered on the local network within 5 s; without a rendezvous server only this network is searched \(pass --rendezvous/m,
    );
    assert.equal(received.stderr.trim().split("\n").length, 1, received.stderr);
    assert.deepEqual(await listDir(`${work}/in`), []);
  },
);

labTest(
  "lab: a rendezvous server that does not answer, two hosts on one LAN meet through local discovery",
  120_000,
  async (run) => {
    // The rendezvous namespace exists, but nothing listens there.
    const outcome = await transfer(run, "hostA2", [
      "--rendezvous",
      `${run.lab.rendezvous.ip}:9000`,
    ]);
    await assertFoundOnLan(run, outcome);
    // Nothing answers over UDP and TCP is refused: after 1 s the sender gives the server up, takes
    // a code from the LAN's range, and says so.
    const warnings = outcome.sent.events.filter((e) => e.type === "warning");
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(
      String(warnings[0].message),
      /^The rendezvous server .* did not answer over UDP within 1 s, nor over TCP: .*; looking for the receiver on the local network only$/,
    );
    const order = outcome.sent.events.map((e) => e.type);
    assert.ok(order.indexOf("warning") < order.indexOf("code"), order.join(", "));
  },
);

labTest(
  "lab: with a rendezvous server running, both sides of one LAN agree on how they met; --no-local uses the server",
  120_000,
  async (run) => {
    const serve = run.spawn("rendezvous", ["serve", "--port", "9000", "--json"]);
    await serve.next("listening");
    const rendezvous = ["--rendezvous", `${run.lab.rendezvous.ip}:9000`];
    const both = await transfer(run, "hostA2", rendezvous, "both");
    assert.equal(both.received.code, 0, both.received.stderr);
    assert.equal(both.sent.code, 0, both.sent.stderr);
    const found = event(both.received, "paired")?.found;
    assert.ok(found === "local" || found === "server", String(found));
    assert.equal(event(both.sent, "paired")?.found, found);
    for (const side of [both.sent, both.received]) {
      assert.equal(event(side, "connected")?.path, "lan");
    }
    const serverOnly = await transfer(run, "hostA2", [...rendezvous, "--no-local"], "server");
    for (const side of [serverOnly.sent, serverOnly.received]) {
      assert.equal(side.code, 0, side.stderr);
      assert.equal(event(side, "paired")?.found, "server");
      assert.equal(event(side, "connected")?.path, "lan");
      assert.equal(event(side, "done")?.sha256, serverOnly.expected);
    }
  },
);

labTest(
  "lab: a mistyped nameplate, with a server and the LAN both looked at, fails in one line saying where",
  90_000,
  async (run) => {
    const serve = run.spawn("rendezvous", ["serve", "--port", "9000", "--json"]);
    await serve.next("listening");
    const receiver = run.spawn("hostA2", [
      "receive",
      "9876-abandon-ability",
      "--yes",
      "--rendezvous",
      `${run.lab.rendezvous.ip}:9000`,
    ]);
    const received = await receiver.finished();
    assert.equal(received.code, 1, received.stderr);
    // Before: the server's answer as a warning, then only "... within 5000 ms" from the LAN.
    assert.equal(
      received.stderr,
      "warning: No sender is waiting on nameplate 9876 at the rendezvous server; looking on the local network for 5 s\n" +
        "error: No sender is waiting on nameplate 9876, at the rendezvous server or on the local network (check the code, or ask the sender for a new one)\n",
    );
    // With --timeout both ways wait that long (the LAN no longer at least 5 s) and end together:
    // the verdict names both, whichever ended last.
    const waited = await run.spawn("hostA2", [
      "receive",
      "9876-abandon-ability",
      "--yes",
      "--timeout",
      "2",
      "--rendezvous",
      `${run.lab.rendezvous.ip}:9000`,
    ]).finished();
    assert.equal(waited.code, 1, waited.stderr);
    assert.match(
      waited.stderr,
      /(^|\n)error: No sender is waiting on nameplate 9876, at the rendezvous server or on the local network \(check the code, or ask the sender for a new one\)\n$/,
    );
    assert.doesNotMatch(waited.stderr, /for 5 s/);
  },
);

labTest(
  "lab: send --code to a receiver already looking on the LAN shows its code before the pairing",
  90_000,
  async (run) => {
    await Deno.mkdir(`${run.dir}/in`);
    await Deno.writeTextFile(`${run.dir}/note.txt`, "agreed beforehand");
    const receiver = run.spawn("hostA2", [
      "receive",
      "4321-abandon-ability",
      "--timeout",
      "30",
      "--out",
      `${run.dir}/in`,
      "--yes",
      "--json",
    ]);
    // Nothing answers at the server's address: the LAN pairs while the server way still tries
    // (it gives up after 1 s without an answer over UDP, then TCP is refused).
    const sender = run.spawn("hostA", [
      "send",
      `${run.dir}/note.txt`,
      "--code",
      "4321-abandon-ability",
      "--rendezvous",
      `${run.lab.rendezvous.ip}:9000`,
      "--json",
    ]);
    const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
    assert.equal(received.code, 0, received.stderr);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(event(sent, "paired")?.found, "local");
    // Before: no `code` event (nor "Code is:") when the LAN paired first.
    const order = sent.events.map((e) => e.type);
    assert.ok(
      order.includes("code") && order.indexOf("code") < order.indexOf("paired"),
      order.join(),
    );
    assert.equal(event(sent, "code")?.code, "4321-abandon-ability");
  },
);

labTest(
  "lab: send --code on a nameplate another sender holds at the server fails at once, showing no code",
  90_000,
  async (run) => {
    await Deno.writeTextFile(`${run.dir}/note.txt`, "first");
    const serve = run.spawn("rendezvous", ["serve", "--port", "9000", "--json"]);
    await serve.next("listening");
    const rendezvous = ["--rendezvous", `${run.lab.rendezvous.ip}:9000`];
    const holder = run.spawn("hostA", [
      "send",
      `${run.dir}/note.txt`,
      "--code",
      "4321-abandon-ability",
      ...rendezvous,
      "--json",
    ]);
    await holder.next("code");
    // The LAN is on: before, this sender warned, showed its code and waited there, while a
    // receiver through the server met the first sender (and ended its code with a mismatch).
    const second = await run.spawn("hostA2", [
      "send",
      `${run.dir}/note.txt`,
      "--code",
      "4321-cable-example",
      "--timeout",
      "5",
      ...rendezvous,
      "--json",
    ]).finished();
    assert.equal(second.code, 1, second.stderr);
    assert.equal(
      second.stderr,
      "error: Cannot register as sender: nameplate 4321 is in use (choose another code)\n",
    );
    assert.equal(event(second, "code"), undefined);
    holder.kill("SIGTERM");
    await holder.finished();
  },
);
