/**
 * End-to-end tests of the transport choice (peer/PROTOCOL.md, "Transport
 * choice") through real `main.ts` processes on loopback: TLS over TCP on the
 * LAN by default, QUIC when asked, the TCP relay, rendezvous over TCP.
 */
import assert from "node:assert/strict";
import type { CliEvent } from "../scripts/cli_process.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";
import { boundedTest } from "./bounded.ts";
import { udpBlockedFront } from "./udp_blocked_front.ts";
import { assertSucceeded, listDir, type World, world, wrongWords } from "./world.ts";

const TEST_TIMEOUT_MS = 60_000;
const SIZE = 3 * 1024 * 1024 + 17;

interface Outcome {
  connected: CliEvent[];
  warnings: string[];
}

/** Sends one file with `flags` on both sides and checks it arrived whole. */
async function transfer(w: World, flags: string[], rendezvous = w.rendezvous): Promise<Outcome> {
  const source = `${w.dir}/data.bin`;
  await makeRandomFile(source, SIZE);
  const expected = await sha256File(source);
  await Deno.mkdir(`${w.dir}/in`);
  const { sent, received } = await w.transfer([source], { both: flags, rendezvous });
  assertSucceeded(sent, received);
  assert.equal(await sha256File(`${w.dir}/in/data.bin`), expected);
  const runs = [sent, received];
  for (const run of runs) {
    assert.equal(run.events.find((event) => event.type === "done")?.sha256, expected);
  }
  return {
    connected: runs.map((run) => run.events.find((event) => event.type === "connected")!),
    warnings: runs.flatMap((run) =>
      run.events.filter((event) => event.type === "warning").map((event) => String(event.message))
    ),
  };
}

function assertPath(outcome: Outcome, path: string, transport: string): void {
  for (const connected of outcome.connected) {
    assert.equal(connected?.path, path, JSON.stringify(connected));
    assert.equal(connected?.transport, transport, JSON.stringify(connected));
  }
}

boundedTest(
  "by default two peers on one host connect over TLS/TCP on the LAN path",
  async (signal) => {
    await using w = await world(signal);
    const outcome = await transfer(w, []);
    assertPath(outcome, "lan", "tcp");
    assert.deepEqual(outcome.warnings, []);
  },
  { timeoutMs: TEST_TIMEOUT_MS },
);

boundedTest("--transport quic keeps the LAN path on QUIC", async (signal) => {
  await using w = await world(signal);
  assertPath(await transfer(w, ["--transport", "quic"]), "lan", "quic");
}, { timeoutMs: TEST_TIMEOUT_MS });

boundedTest("--relay-only relays over the TCP relay", async (signal) => {
  await using w = await world(signal);
  const outcome = await transfer(w, ["--relay-only"]);
  assertPath(outcome, "relay", "tcp");
  const [, relayPort] = String(outcome.connected[0].remote).split(":");
  const listening = w.serve.events.find((event) => event.type === "listening")!;
  assert.equal(Number(relayPort), listening.relayPort);
}, { timeoutMs: TEST_TIMEOUT_MS });

for (const side of ["send", "receive"] as const) {
  boundedTest(
    `${side} --relay-only against a peer without it: the peer learns it at pairing and relays without punching first`,
    async (signal) => {
      await using w = await world(signal);
      const source = `${w.dir}/note.txt`;
      await Deno.writeTextFile(source, "relayed at once");
      await Deno.mkdir(`${w.dir}/in`);
      const { sent, received } = await w.transfer([source], { [side]: ["--relay-only"] });
      assertSucceeded(sent, received);
      for (const run of [sent, received]) {
        const connected = run.events.find((event) => event.type === "connected");
        assert.equal(connected?.path, "relay", JSON.stringify(connected));
        // Both sides know why: the side without the flag did not punch and give up first.
        assert.match(String(connected?.reason), /as --relay-only on one side asks/);
      }
    },
    { timeoutMs: TEST_TIMEOUT_MS },
  );
}

boundedTest("--relay-only --transport quic relays QUIC over the UDP relay", async (signal) => {
  await using w = await world(signal);
  assertPath(await transfer(w, ["--relay-only", "--transport", "quic"]), "relay", "quic");
}, { timeoutMs: TEST_TIMEOUT_MS });

for (const [sender, receiver] of [["quic", "tcp"], ["tcp", "quic"]]) {
  boundedTest(
    `send --transport ${sender} and receive --transport ${receiver}: both fail at once saying both need a transport in common`,
    async (signal) => {
      await using w = await world(signal);
      await Deno.writeTextFile(`${w.dir}/note.txt`, "no transport in common");
      await Deno.mkdir(`${w.dir}/in`);
      const { sent, received } = await w.transfer([`${w.dir}/note.txt`], {
        send: ["--transport", sender],
        receive: ["--transport", receiver],
      });
      for (const run of [sent, received]) {
        assert.equal(run.code, 1, run.stderr);
        assert.match(
          run.stderr,
          /: both sides need a transport in common \(run both without --transport\)\n$/,
        );
      }
      // Each names what the other side may run.
      assert.match(sent.stderr, new RegExp(`as with --transport ${receiver}:`));
      assert.match(received.stderr, new RegExp(`as with --transport ${sender}:`));
      assert.deepEqual(await listDir(`${w.dir}/in`), []);
    },
    { timeoutMs: TEST_TIMEOUT_MS },
  );
}

boundedTest(
  "--relay-only never goes direct, even to a peer with --no-relay: both fail saying which flag",
  async (signal) => {
    await using w = await world(signal);
    await Deno.writeTextFile(`${w.dir}/note.txt`, "relayed or nothing");
    await Deno.mkdir(`${w.dir}/in`);
    const { sent, received } = await w.transfer([`${w.dir}/note.txt`], {
      send: ["--no-relay"],
      receive: ["--relay-only"],
    });
    assert.equal(received.code, 1, received.stderr);
    assert.match(
      received.stderr,
      /^error: No path to the peer after \d+ s: this side uses only the relay \(--relay-only\) and the peer never came to it \(it may not allow the relay: --no-relay\)/,
    );
    assert.equal(sent.code, 1, sent.stderr);
    // It learns the receiver's wish at pairing: no punching that cannot succeed.
    assert.match(
      sent.stderr,
      /^error: The receiver takes only the relay \(--relay-only\) and this side never relays \(--no-relay\): run one of them without its flag\n$/m,
    );
    assert.ok(!sent.events.some((event) => event.type === "connected"), sent.stdout);
    assert.deepEqual(await listDir(`${w.dir}/in`), []);
  },
  { timeoutMs: 90_000 },
);

boundedTest(
  "a server that does not answer over UDP is reached over TCP, and the user is told why",
  async (signal) => {
    await using w = await world(signal);
    const [hostname, port] = w.server.split(":");
    await using front = udpBlockedFront({ hostname, port: Number(port) });
    const outcome = await transfer(w, [], front.rendezvous);
    assertPath(outcome, "lan", "tcp");
    assert.equal(outcome.warnings.length, 2, JSON.stringify(outcome.warnings));
    for (const warning of outcome.warnings) {
      assert.match(warning, /^UDP to the server got no answer within 1 s: using TCP$/);
    }
  },
  { timeoutMs: TEST_TIMEOUT_MS },
);

boundedTest("--tcp registers over TCP at once and can still relay over TCP", async (signal) => {
  await using w = await world(signal);
  const [hostname, port] = w.server.split(":");
  await using front = udpBlockedFront({ hostname, port: Number(port) });
  const outcome = await transfer(w, ["--tcp", "--relay-only"], front.rendezvous);
  assertPath(outcome, "relay", "tcp");
  // Asked for, so no warning.
  assert.deepEqual(outcome.warnings, []);
}, { timeoutMs: TEST_TIMEOUT_MS });

boundedTest(
  "a receiver asking for QUIC from a sender on TCP rendezvous fails with a clear message",
  async (signal) => {
    await using w = await world(signal);
    await Deno.writeTextFile(`${w.dir}/note.txt`, "hello");
    await Deno.mkdir(`${w.dir}/in`);
    const sender = w.send([`${w.dir}/note.txt`], ["--tcp"]);
    const { code } = await sender.next("code");
    const receiver = w.receive(String(code), ["--transport", "quic"]);
    const received = await receiver.finished();
    assert.equal(received.code, 1, received.stderr);
    assert.match(
      received.stderr,
      /^error: --transport quic needs UDP between the peers, but the sender reached the rendezvous server over TCP only/,
    );
    sender.kill("SIGTERM");
    await sender.finished();
    assert.deepEqual(await listDir(`${w.dir}/in`), []);
  },
  { timeoutMs: TEST_TIMEOUT_MS },
);

boundedTest(
  "the right nameplate with wrong words fails with a code mismatch over TLS/TCP and over QUIC",
  async (signal) => {
    for (const transport of ["tcp", "quic"]) {
      await using w = await world(signal);
      await Deno.writeTextFile(`${w.dir}/secret.txt`, "attack at dawn");
      await Deno.mkdir(`${w.dir}/in`);
      const { sent, received } = await w.transfer([`${w.dir}/secret.txt`], {
        both: ["--transport", transport],
        typed: wrongWords,
      });
      for (const run of [sent, received]) {
        assert.equal(run.code, 1, `${transport}: ${run.stderr}`);
        assert.match(run.stderr, /code mismatch/i, transport);
        assert.ok(!run.events.some((event) => event.type === "done"), transport);
      }
      assert.deepEqual(await listDir(`${w.dir}/in`), [], transport);
    }
  },
  { timeoutMs: TEST_TIMEOUT_MS },
);

boundedTest("--transport rejects an unknown value with a usage error", async (signal) => {
  await using w = await world(signal);
  const run = await w.spawnCli(["send", `${w.dir}`, ...w.rendezvous, "--transport", "udp"])
    .finished();
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^error: Invalid --transport "udp": expected one of auto, quic, tcp$/m);
}, { timeoutMs: TEST_TIMEOUT_MS });
