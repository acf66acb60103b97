/**
 * The NAT lab, paths other than a punched one: two hosts on one LAN, homes that drop all UDP, two
 * symmetric NATs (relay, or a clear error without one), --relay-only, and what the relay can see.
 * Direct paths: tests/nat_test.ts. Harness: tests/_nat_lab.ts.
 */
import assert from "node:assert/strict";
import {
  assertDelivered,
  event,
  labTest,
  RENDEZVOUS_PORT,
  runScenario,
  withLab,
} from "./_nat_lab.ts";

labTest(
  "lab: two hosts on one LAN without hairpinning use the LAN",
  90_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent" },
      receiver: "hostA2",
    }, (outcome) => {
      assertDelivered(outcome, "lan");
      assert.match(
        String(event(outcome.receiver, "connected")?.remote),
        new RegExp(`^${outcome.lab.hostA.ip}:`),
      );
    }),
);

labTest(
  "lab: two hosts on one LAN with hairpinning still prefer the LAN",
  90_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent", hairpin: true },
      receiver: "hostA2",
    }, (outcome) => assertDelivered(outcome, "lan")),
);

labTest(
  "lab: two hosts on one LAN with --transport quic use QUIC on the LAN",
  90_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent" },
      receiver: "hostA2",
      senderArgs: ["--transport", "quic"],
      receiverArgs: ["--transport", "quic"],
    }, (outcome) => assertDelivered(outcome, "lan", "quic")),
);

labTest(
  "lab: homes that drop all UDP meet over TCP rendezvous and transfer through the TCP relay",
  120_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent", blockUdp: true },
    }, (outcome) => {
      assertDelivered(outcome, "relay", "tcp");
      for (const run of [outcome.sender, outcome.receiver]) {
        const warnings = run.events.filter((e) => e.type === "warning").map((e) => e.message);
        assert.deepEqual(warnings, ["UDP to the server got no answer within 1 s: using TCP"]);
        assert.equal(
          event(run, "connected")?.remote,
          `${outcome.lab.rendezvous.ip}:${RENDEZVOUS_PORT + 2}`,
        );
      }
    }),
);

labTest(
  "lab: two hosts on one LAN that drops UDP to the server still meet on the LAN over TLS/TCP",
  120_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent", blockUdp: true },
      receiver: "hostA2",
    }, (outcome) => assertDelivered(outcome, "lan", "tcp")),
);

labTest(
  "lab: two symmetric NATs fall back to the relay, which says why",
  120_000,
  (signal) =>
    runScenario(signal, { lab: { natA: "symmetric", natB: "symmetric" } }, (outcome) => {
      assertDelivered(outcome, "relay");
      assert.match(String(event(outcome.receiver, "connected")?.reason), /relay/);
    }),
);

labTest(
  "lab: two symmetric NATs without a relay fail with a clear error naming the NAT kinds",
  120_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "symmetric", natB: "symmetric" },
      serveArgs: ["--no-relay"],
    }, (outcome) => {
      for (const run of [outcome.sender, outcome.receiver]) {
        assert.equal(run.code, 1, run.stderr);
        assert.match(run.stderr, /^error: No path to the peer .*endpoint-dependent/m);
      }
      assert.equal(outcome.received, undefined);
    }),
);

labTest(
  "lab: --relay-only relays even when a direct path exists",
  120_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent" },
      receiverArgs: ["--relay-only"],
      senderArgs: ["--relay-only"],
    }, (outcome) => assertDelivered(outcome, "relay")),
);

/**
 * Relays a file whose every line is a known canary through the server while
 * tcpdump captures `filter` on the server, then looks for the canary.
 */
function relayCaptureTest(name: string, filter: string[], transport: "quic" | "tcp") {
  labTest(
    name,
    120_000,
    (signal) =>
      withLab(
        signal,
        { lab: { natA: "endpoint-independent", natB: "endpoint-independent" } },
        async (run) => {
          const canary = "p2pft-plaintext-canary: if you can read this the relay saw the file. ";
          const payload = new TextEncoder().encode(
            canary.repeat(Math.ceil(1_048_576 / canary.length)),
          );
          const capture = await Deno.makeTempFile({ prefix: "p2pft-relay-", suffix: ".pcap" });
          const tcpdump = run.lab.spawn(run.lab.rendezvous.ns, [
            "tcpdump",
            "-i",
            "any",
            "-U",
            "-s",
            "0",
            "-w",
            capture,
            ...filter,
          ], { stdout: "null", stderr: "piped" });
          const stopCapture = () => {
            try {
              tcpdump.kill("SIGKILL");
            } catch { /* already ended */ }
          };
          signal.addEventListener("abort", stopCapture, { once: true });
          try {
            // tcpdump says "listening on" once it captures.
            const reader = tcpdump.stderr.pipeThrough(new TextDecoderStream()).getReader();
            for (let text = ""; !text.includes("listening on");) {
              const { value, done } = await reader.read();
              if (done) throw new Error(`tcpdump ended: ${text}`);
              text += value;
            }
            reader.releaseLock();
            tcpdump.stderr.cancel().catch(() => {});
            const args = ["--relay-only", "--transport", transport];
            const outcome = await run.transfer({ payload, senderArgs: args, receiverArgs: args });
            assertDelivered(outcome, "relay", transport);
            tcpdump.kill("SIGINT");
            await tcpdump.status;
            const captured = await Deno.readFile(capture);
            assert.ok(
              captured.length > payload.length,
              `the capture holds ${captured.length} bytes, too little to contain the relayed file`,
            );
            const text = new TextDecoder("latin1").decode(captured);
            assert.ok(
              !text.includes(canary.slice(0, 24)),
              "plaintext of the file was seen by the relay",
            );
          } finally {
            signal.removeEventListener("abort", stopCapture);
            stopCapture();
            await tcpdump.status.catch(() => {});
            await Deno.remove(capture);
          }
        },
      ),
  );
}

relayCaptureTest(
  "lab: the relay only ever sees ciphertext (a capture holds no plaintext of the file)",
  ["udp"],
  "quic",
);

relayCaptureTest(
  "lab: the TCP relay only ever sees ciphertext (a capture of its port holds no plaintext of the file)",
  ["tcp", "port", String(RENDEZVOUS_PORT + 2)],
  "tcp",
);
