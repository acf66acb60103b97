/**
 * The NAT lab, direct paths: the real CLI punches through emulated home routers (public addresses,
 * endpoint-independent and symmetric NATs, delay, loss, a long fat path, a late receiver) and does
 * so reliably. Same LAN, UDP-blocked homes and the relay: tests/nat_lan_relay_test.ts. Harness:
 * tests/_nat_lab.ts.
 */
import assert from "node:assert/strict";
import { arrivalMs } from "../scripts/cli_process.ts";
import { assertDelivered, event, labTest, runScenario, withLab } from "./_nat_lab.ts";

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
  "lab: one symmetric NAT gives a direct path in at least 19 of 20 runs",
  400_000,
  (signal) =>
    withLab(signal, { lab: { natA: "endpoint-independent", natB: "symmetric" } }, async (run) => {
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
      { lab: { natA: "endpoint-independent", natB: "endpoint-independent", openInput: true } },
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
