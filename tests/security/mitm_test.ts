/**
 * A lying rendezvous server puts an attacker in the middle: a UDP proxy in
 * front of a real `serve` process rewrites the `paired` replies so that each
 * real peer punches with the attacker, which terminates QUIC on both sides
 * and relays the PAKE bytes (a true man in the middle, not a wrong code).
 * Real `send` and `receive` CLI processes must both fail before any file
 * byte moves, and the attacker must see nothing but the PAKE messages.
 */
import assert from "node:assert/strict";
import type { CliRun } from "../../scripts/cli_process.ts";
import { LyingRendezvous } from "./_lying_rendezvous.ts";
import { MitmAttacker, type MitmReport } from "./_mitm_attacker.ts";
import { boundedTest } from "../bounded.ts";
import { listDir, world } from "../world.ts";

const SECRET = "attack at dawn: the file content the attacker must never see";
/** One PAKE direction: SHARE (4 + 65) + CONFIRM (4 + 32) bytes, pake/PROTOCOL.md. */
const PAKE_BYTES_PER_DIRECTION = 105;
const SHARE_FRAME_BYTES = 69;

interface Outcome {
  sent: Awaited<ReturnType<CliRun["finished"]>>;
  received: Awaited<ReturnType<CliRun["finished"]>>;
  report: MitmReport;
  proxy: LyingRendezvous;
  attackerAddr: string;
  out: string;
}

/** Runs real send + receive through the lying server; `swapFingerprint` completes the lie. */
async function attack(
  signal: AbortSignal,
  swapFingerprint: boolean,
  check: (outcome: Outcome) => Promise<void>,
  transport: "quic" | "tcp" = "quic",
): Promise<void> {
  await using w = await world(signal);
  await using attacker = await MitmAttacker.create(transport);
  const [hostname, port] = w.server.split(":");
  const towardReceiver = attacker.addr(attacker.towardReceiver);
  await using proxy = new LyingRendezvous({ transport: "udp", hostname, port: Number(port) }, {
    senderAddr: towardReceiver,
    senderFingerprint: swapFingerprint ? attacker.certificate.fingerprint : undefined,
    receiverAddr: attacker.addr(attacker.towardSender),
  });
  // --no-local: the peers must meet through the proxy (and stay off the host's networks).
  const rendezvous = ["--rendezvous", `127.0.0.1:${proxy.addr.port}`, "--no-local"];
  await Deno.writeTextFile(`${w.dir}/secret.txt`, SECRET);
  const out = `${w.dir}/in`;
  await Deno.mkdir(out);

  const flags = ["--transport", transport];
  const sender = w.send([`${w.dir}/secret.txt`], ["--timeout", "30", ...flags], { rendezvous });
  const { code } = await sender.next("code", signal);
  const receiver = w.receive(String(code), flags, { rendezvous, out });
  const pairing = await Promise.race([
    proxy.intercepted,
    receiver.finished().then((run) => {
      throw new Error(`the receiver ended before pairing: ${run.stderr}`);
    }),
  ]);
  const [sent, received, report] = await Promise.all([
    sender.finished(),
    receiver.finished(),
    attacker.run(pairing, signal),
  ]);
  await check({
    sent,
    received,
    report,
    proxy,
    attackerAddr: `${towardReceiver.hostname}:${towardReceiver.port}`,
    out,
  });
}

function assertNoFileByteSeen(report: MitmReport): void {
  const seen = new TextDecoder().decode(
    new Uint8Array(report.relayed.flatMap((chunk) => [...chunk])),
  );
  assert.ok(!seen.includes("attack at dawn"), "the attacker saw file bytes");
  assert.equal(report.streamsFromSender, 0, "the sender opened a transfer stream to the attacker");
}

for (const transport of ["quic", "tcp"] as const) {
  boundedTest(
    `a rendezvous server that swaps addresses and fingerprints and relays the PAKE over ${transport} is caught by the channel binding; no file byte reaches it`,
    (signal) =>
      attack(signal, true, async ({ sent, received, report, proxy, attackerAddr, out }) => {
        // The lie worked up to the PAKE: both peers set up a link with the attacker.
        assert.ok(proxy.lies.receive >= 1 && proxy.lies.send >= 1, JSON.stringify(proxy.lies));
        const paired = received.events.find((event) => event.type === "paired");
        assert.equal(paired?.peer, attackerAddr, "the receiver was not sent to the attacker");
        assert.ok(report.receiverConnected, "the receiver did not pin the attacker's certificate");
        assert.ok(report.senderConnected, "the attacker did not reach the sender");
        // The attacker relayed the real PAKE messages, and nothing more.
        for (const bytes of [report.receiverToSender, report.senderToReceiver]) {
          assert.ok(
            bytes >= SHARE_FRAME_BYTES && bytes <= PAKE_BYTES_PER_DIRECTION,
            `relayed ${report.receiverToSender} / ${report.senderToReceiver} bytes`,
          );
        }
        assertNoFileByteSeen(report);
        for (const [who, run] of [["sender", sent], ["receiver", received]] as const) {
          assert.equal(run.code, 1, `${who}: ${run.stderr}`);
          assert.equal(run.stderr.trim().split("\n").length, 1, `${who}: ${run.stderr}`);
          assert.match(run.stderr, /^error: Code mismatch: .*someone is in the middle/, who);
          assert.ok(!run.events.some((event) => event.type === "done"), who);
          assert.ok(!run.events.some((event) => event.type === "connected"), who);
        }
        assert.deepEqual(await listDir(out), []);
      }, transport),
  );
}

boundedTest(
  "a rendezvous server that swaps only the address is caught by the certificate pin before QUIC",
  (signal) =>
    attack(signal, false, async ({ sent, received, report, attackerAddr, out }) => {
      const paired = received.events.find((event) => event.type === "paired");
      assert.equal(paired?.peer, attackerAddr);
      assert.equal(received.code, 1, received.stderr);
      assert.match(
        received.stderr,
        /^error: The sender's certificate at .* is not the one it announced through the rendezvous server: someone may be in the middle; nothing was received\n$/,
      );
      assert.ok(!report.receiverConnected, "the receiver dialled the attacker anyway");
      assert.equal(report.senderToReceiver + report.receiverToSender, 0);
      assertNoFileByteSeen(report);
      assert.equal(sent.code, 1, sent.stderr);
      assert.equal(sent.stderr.trim().split("\n").length, 1, sent.stderr);
      assert.ok(!sent.events.some((event) => event.type === "done"));
      assert.deepEqual(await listDir(out), []);
    }),
);
