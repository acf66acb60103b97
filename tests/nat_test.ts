/**
 * The scenario table of the NAT lab: the real CLI (rendezvous server, sender,
 * receiver) in network namespaces behind emulated home routers. Every run
 * checks the received bytes' SHA-256 and the `connected` event's path.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { arrivalMs, type CliRun, spawnCli } from "../scripts/cli_process.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";
import { createLab, type Lab, labAvailable, type LabOptions } from "./lab/mod.ts";

const available = await labAvailable();
const skipNote = available.ok ? "" : ` (skipped: ${available.reason})`;
const RENDEZVOUS_PORT = 9000;

interface Scenario {
  lab: Omit<LabOptions, "signal">;
  /** Which lab hosts send and receive (default hostA → hostB). */
  sender?: "hostA" | "hostB" | "hostA2";
  receiver?: "hostA" | "hostB" | "hostA2";
  size?: number;
  /** Exact bytes to send (instead of `size` random bytes). */
  payload?: Uint8Array;
  /** Start the receiver this long after the sender printed its code. */
  receiverDelayMs?: number;
  senderArgs?: string[];
  receiverArgs?: string[];
  serveArgs?: string[];
}

interface Outcome {
  sender: Awaited<ReturnType<CliRun["finished"]>>;
  receiver: Awaited<ReturnType<CliRun["finished"]>>;
  expected: string;
  received?: string;
  lab: Lab;
}

/** A lab test whose deadline aborts `signal`: the lab and every child then go away. */
function labTest(name: string, timeoutMs: number, fn: (signal: AbortSignal) => Promise<void>) {
  boundedTest(`${name}${skipNote}`, fn, {
    timeoutMs,
    ignore: !available.ok,
    sanitizeResources: false, // child process pipes of killed processes close asynchronously
  });
}

interface LabRun {
  lab: Lab;
  /** One send/receive through the running lab, into a fresh folder. */
  transfer(scenario: Omit<Scenario, "lab" | "serveArgs">): Promise<Outcome>;
}

/** Builds the lab and starts a rendezvous server in it; everything is gone afterwards. */
async function withLab(
  signal: AbortSignal,
  options: Scenario["lab"],
  serveArgs: string[],
  fn: (run: LabRun) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "p2pft-nat-" });
  const runs: CliRun[] = [];
  // A child waited on (finished, next) ends when killed, so the test unwinds on abort.
  const killAll = () => runs.forEach((run) => run.kill("SIGKILL"));
  signal.addEventListener("abort", killAll, { once: true });
  try {
    const building = AbortSignal.any([signal, AbortSignal.timeout(60_000)]);
    await using lab = await createLab({ ...options, signal: building });
    const spawn = (ns: string, args: string[]) => {
      signal.throwIfAborted();
      const run = spawnCli(args, { wrapper: ["ip", "netns", "exec", ns], cwd: dir });
      runs.push(run);
      return run;
    };
    const server = spawn(lab.rendezvous.ns, [
      "serve",
      "--host",
      "0.0.0.0",
      "--port",
      String(RENDEZVOUS_PORT),
      "--json",
      ...serveArgs,
    ]);
    await server.next("listening");
    const rendezvous = ["--rendezvous", `${lab.rendezvous.ip}:${RENDEZVOUS_PORT}`, "--json"];
    let count = 0;
    await fn({
      lab,
      async transfer(scenario) {
        const work = `${dir}/run-${++count}`;
        await Deno.mkdir(`${work}/in`, { recursive: true });
        const source = `${work}/payload.bin`;
        if (scenario.payload) await Deno.writeFile(source, scenario.payload);
        else await makeRandomFile(source, scenario.size ?? 2 * 1024 * 1024);
        const expected = await sha256File(source);
        const sender = spawn(lab[scenario.sender ?? "hostA"].ns, [
          "send",
          source,
          ...rendezvous,
          ...(scenario.senderArgs ?? []),
        ]);
        const { code } = await sender.next("code");
        if (scenario.receiverDelayMs) {
          await new Promise((resolve) => setTimeout(resolve, scenario.receiverDelayMs));
        }
        const receiver = spawn(lab[scenario.receiver ?? "hostB"].ns, [
          "receive",
          String(code),
          "--out",
          `${work}/in`,
          "--yes",
          ...rendezvous,
          ...(scenario.receiverArgs ?? []),
        ]);
        const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
        const target = `${work}/in/payload.bin`;
        const hasFile = await Deno.stat(target).then(() => true, () => false);
        return {
          sender: sent,
          receiver: received,
          expected,
          received: hasFile ? await sha256File(target) : undefined,
          lab,
        };
      },
    });
  } finally {
    signal.removeEventListener("abort", killAll);
    killAll();
    await Promise.all(runs.map((run) => run.finished()));
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs one transfer through a fresh lab and checks it. */
function runScenario(
  signal: AbortSignal,
  scenario: Scenario,
  check: (outcome: Outcome) => void | Promise<void>,
): Promise<void> {
  return withLab(
    signal,
    scenario.lab,
    scenario.serveArgs ?? [],
    async (run) => await check(await run.transfer(scenario)),
  );
}

function event(run: Outcome["sender"], type: string) {
  return run.events.find((e) => e.type === type);
}

/**
 * Both sides exit 0, the bytes match, and both report `path` and the
 * transport it gets by default: TLS over TCP on the LAN and through the
 * relay, QUIC on a punched public path (peer/PROTOCOL.md, "Transport choice").
 */
function assertDelivered(
  outcome: Outcome,
  path: string,
  transport = path === "direct" ? "quic" : "tcp",
): void {
  assert.equal(outcome.sender.code, 0, `sender: ${outcome.sender.stderr}`);
  assert.equal(outcome.receiver.code, 0, `receiver: ${outcome.receiver.stderr}`);
  assert.equal(outcome.received, outcome.expected);
  for (const run of [outcome.sender, outcome.receiver]) {
    const connected = JSON.stringify(event(run, "connected"));
    assert.equal(event(run, "connected")?.path, path, connected);
    assert.equal(event(run, "connected")?.transport, transport, connected);
    assert.equal(event(run, "done")?.sha256, outcome.expected);
  }
}

labTest(
  "lab: both peers on public addresses connect directly",
  90_000,
  (signal) =>
    runScenario(signal, { lab: { natA: "none", natB: "none" } }, (outcome) => {
      assertDelivered(outcome, "direct");
      assert.match(
        String(event(outcome.receiver, "connected")?.remote),
        new RegExp(`^${outcome.lab.hostA.ip}:`),
      );
    }),
);

labTest(
  "lab: two endpoint-independent NATs on the same private range punch a direct path",
  90_000,
  (signal) =>
    runScenario(
      signal,
      { lab: { natA: "endpoint-independent", natB: "endpoint-independent" } },
      (outcome) => {
        assertDelivered(outcome, "direct");
        assert.match(
          String(event(outcome.receiver, "connected")?.remote),
          new RegExp(`^${outcome.lab.routerA.publicIp}:`),
        );
      },
    ),
);

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
  "lab: peers with the same private IP in two homes connect directly, never to themselves",
  90_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent", samePrivateIp: true },
    }, (outcome) => {
      assert.equal(outcome.lab.hostA.ip, outcome.lab.hostB.ip);
      assertDelivered(outcome, "direct");
      assert.match(
        String(event(outcome.receiver, "connected")?.remote),
        new RegExp(`^${outcome.lab.routerA.publicIp}:`),
      );
    }),
);

labTest(
  "lab: NATs with 50 ms delay each way and 1% loss still deliver a verified file",
  120_000,
  (signal) =>
    runScenario(signal, {
      lab: {
        natA: "endpoint-independent",
        natB: "endpoint-independent",
        delayMs: 25,
        lossPercent: 0.5,
      },
      size: 4 * 1024 * 1024,
    }, (outcome) => {
      assertDelivered(outcome, "direct");
      const rtt = Number(event(outcome.receiver, "connected")?.rttMs);
      assert.ok(rtt >= 90, `RTT ${rtt} ms, expected about 100`);
    }),
);

labTest(
  "lab: a long fat path (150 ms each way, 200 Mbit/s) delivers a verified file directly",
  180_000,
  (signal) =>
    runScenario(signal, {
      lab: {
        natA: "endpoint-independent",
        natB: "endpoint-independent",
        delayMs: 75,
        rateMbit: 200,
      },
      size: 32 * 1024 * 1024,
    }, (outcome) => {
      assertDelivered(outcome, "direct");
      const rtt = Number(event(outcome.receiver, "connected")?.rttMs);
      assert.ok(rtt >= 290, `RTT ${rtt} ms, expected about 300`);
    }),
);

labTest(
  "lab: a receiver that starts 5 s after the sender still connects",
  90_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent" },
      receiverDelayMs: 5_000,
    }, (outcome) => assertDelivered(outcome, "direct")),
);

labTest(
  "lab: one symmetric NAT is punched directly by birthday probing",
  120_000,
  (signal) =>
    runScenario(signal, { lab: { natA: "endpoint-independent", natB: "symmetric" } }, (outcome) => {
      assertDelivered(outcome, "direct");
      for (const run of [outcome.sender, outcome.receiver]) {
        assert.ok(event(run, "nat"), "no nat event");
      }
      assert.equal(event(outcome.sender, "nat")?.mapping, "endpoint-independent");
      assert.equal(event(outcome.receiver, "nat")?.mapping, "endpoint-dependent");
    }),
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

labTest(
  "lab: one symmetric NAT gives a direct path in at least 19 of 20 runs",
  400_000,
  (signal) =>
    withLab(signal, { natA: "endpoint-independent", natB: "symmetric" }, [], async (run) => {
      const paths: string[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        // Half the runs with the symmetric side sending, half with it receiving.
        const swap = attempt % 2 === 1;
        const outcome = await run.transfer({
          sender: swap ? "hostB" : "hostA",
          receiver: swap ? "hostA" : "hostB",
          size: 256 * 1024,
        });
        const ok = outcome.sender.code === 0 && outcome.receiver.code === 0 &&
          outcome.received === outcome.expected;
        paths.push(ok ? String(event(outcome.receiver, "connected")?.path) : "failed");
      }
      const direct = paths.filter((path) => path === "direct").length;
      assert.ok(direct >= 19, `direct in ${direct} of 20 runs: ${paths.join(", ")}`);
    }),
);

labTest(
  "lab: routers that take unsolicited packets on their own input still give a direct path, 19 of 20 runs within 3 s",
  400_000,
  (signal) =>
    withLab(
      signal,
      { natA: "endpoint-independent", natB: "endpoint-independent", openInput: true },
      [],
      async (run) => {
        const results: string[] = [];
        for (let attempt = 0; attempt < 20; attempt++) {
          const swap = attempt % 2 === 1;
          const outcome = await run.transfer({
            sender: swap ? "hostB" : "hostA",
            receiver: swap ? "hostA" : "hostB",
            size: 64 * 1024,
          });
          const ok = outcome.sender.code === 0 && outcome.receiver.code === 0 &&
            outcome.received === outcome.expected;
          const paired = arrivalMs(event(outcome.receiver, "paired"));
          const connected = arrivalMs(event(outcome.receiver, "connected"));
          const path = ok ? String(event(outcome.receiver, "connected")?.path) : "failed";
          const quick = paired !== undefined && connected !== undefined &&
            connected - paired <= 3000;
          results.push(`${path}${quick ? "" : " (slow)"}`);
        }
        const good = results.filter((result) => result === "direct").length;
        assert.ok(good >= 19, `direct within 3 s in ${good} of 20 runs: ${results.join(", ")}`);
      },
    ),
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
        { natA: "endpoint-independent", natB: "endpoint-independent" },
        [],
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
