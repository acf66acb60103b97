/**
 * `p2pft doctor` in the NAT lab: the real CLI behind an emulated cone NAT and
 * an emulated symmetric NAT reports each mapping as the rendezvous server's
 * two ports see it; a server on [::1] is checked like any other; with no
 * server, doctor still checks what this host can alone; a host with loopback only and a server on
 * it is not called offline.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { type CliEvent, type CliRun, spawnCli } from "../scripts/cli_process.ts";
import { CHECK_NAMES } from "../cli/doctor_checks.ts";
import { createBareNamespace, createLab, type Lab, type LabOptions, labSkip } from "./lab/mod.ts";

const skip = await labSkip();
const RENDEZVOUS_PORT = 9000;

type Spawn = (ns: string, args: string[]) => CliRun;

/** A lab with `serve --host HOST` in the rendezvous namespace; every child is killed after `fn`. */
function doctorLabTest(
  name: string,
  setup: { lab: Omit<LabOptions, "signal">; serveHost: string },
  fn: (lab: Lab, spawn: Spawn, signal: AbortSignal) => Promise<void>,
) {
  boundedTest(`${name}${skip.note}`, async (signal) => {
    const runs: CliRun[] = [];
    const killAll = () => runs.forEach((run) => run.kill("SIGKILL"));
    signal.addEventListener("abort", killAll, { once: true });
    try {
      await using lab = await createLab({
        ...setup.lab,
        signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
      });
      const spawn: Spawn = (ns, args) => {
        // No server unless given: the variable from the test's environment is not one.
        const env = { P2PFT_RENDEZVOUS: "" };
        const run = spawnCli(args, { wrapper: ["ip", "netns", "exec", ns], env });
        runs.push(run);
        return run;
      };
      const server = spawn(lab.rendezvous.ns, [
        "serve",
        "--host",
        setup.serveHost,
        "--port",
        String(RENDEZVOUS_PORT),
        "--json",
      ]);
      await server.next("listening", signal);
      await fn(lab, spawn, signal);
    } finally {
      signal.removeEventListener("abort", killAll);
      killAll();
      await Promise.all(runs.map((run) => run.finished()));
    }
  }, { timeoutMs: 120_000, ignore: skip.ignore, sanitizeResources: false });
}

type CheckEvent = CliEvent & { verdict: string; summary: string; facts: Record<string, unknown> };

/** The run's `check` events by name, after checking there is one of each, in order. */
function checks(run: { events: CliEvent[] }): Record<string, CheckEvent> {
  const found = run.events.filter((event) => event.type === "check") as CheckEvent[];
  assert.deepEqual(found.map((event) => event.check), CHECK_NAMES, JSON.stringify(run.events));
  return Object.fromEntries(found.map((event) => [event.check, event]));
}

doctorLabTest(
  "lab: doctor reports endpoint-independent behind the cone NAT and endpoint-dependent behind the symmetric one",
  { lab: { natA: "endpoint-independent", natB: "symmetric" }, serveHost: "0.0.0.0" },
  async (lab, spawn) => {
    const doctor = (ns: string) =>
      spawn(ns, ["doctor", "--rendezvous", `${lab.rendezvous.ip}:${RENDEZVOUS_PORT}`, "--json"])
        .finished();
    const [cone, symmetric] = await Promise.all([doctor(lab.hostA.ns), doctor(lab.hostB.ns)]);
    for (const run of [cone, symmetric]) {
      assert.equal(run.code, 0, run.stderr);
      assert.equal(checks(run).udp.verdict, "ok");
    }
    const coneNat = checks(cone).nat;
    assert.equal(coneNat.facts.mapping, "endpoint-independent", JSON.stringify(coneNat));
    assert.equal(coneNat.facts.observed, coneNat.facts.altObserved);
    assert.match(String(coneNat.facts.observed), new RegExp(`^${lab.hostA.publicIp}:`));
    assert.equal(checks(cone).path.facts.path, "direct");

    const symmetricNat = checks(symmetric).nat;
    assert.equal(symmetricNat.facts.mapping, "endpoint-dependent", JSON.stringify(symmetricNat));
    assert.notEqual(symmetricNat.facts.observed, symmetricNat.facts.altObserved);
    assert.equal(symmetricNat.verdict, "warning");
    assert.equal(checks(symmetric).path.facts.path, "relay");
  },
);

doctorLabTest(
  "lab: doctor checks a server on [::1] over UDP and TCP, and with no server still checks this host",
  {
    lab: { natA: "endpoint-independent", natB: "endpoint-independent", ipv6: "dual" },
    serveHost: "::1",
  },
  async (lab, spawn) => {
    const [ipv6, alone, aloneText] = await Promise.all([
      spawn(lab.rendezvous.ns, ["doctor", "--rendezvous", `[::1]:${RENDEZVOUS_PORT}`, "--json"])
        .finished(),
      spawn(lab.hostA.ns, ["doctor", "--json"]).finished(),
      spawn(lab.hostA.ns, ["doctor"]).finished(),
    ]);
    assert.equal(ipv6.code, 0, `${ipv6.stderr}${JSON.stringify(ipv6.events)}`);
    const served = checks(ipv6);
    assert.equal(served.udp.verdict, "ok", JSON.stringify(served.udp));
    assert.match(String(served.udp.facts.observed), /^\[::1\]:\d+$/);
    assert.equal(served.tcp.verdict, "ok", JSON.stringify(served.tcp));
    assert.equal(served.path.facts.path, "direct");

    assert.equal(alone.code, 0, `${alone.stderr}${JSON.stringify(alone.events)}`);
    const own = checks(alone);
    for (const name of ["udp", "tcp", "nat"]) {
      assert.equal(own[name].verdict, "info");
      assert.match(own[name].summary, /no rendezvous server is configured/);
    }
    assert.ok((own.ipv6.facts.candidates as string[]).includes(lab.hostA.ip6!));
    assert.equal(own.local.facts.works, true, JSON.stringify(own.local));
    assert.equal(own.path.facts.path, "lan");
    assert.equal(aloneText.code, 0, aloneText.stderr);
    assert.match(aloneText.stdout, /no rendezvous server is configured/);
  },
);

boundedTest(
  `lab: doctor on a host with loopback only and a server there does not call it offline${skip.note}`,
  async (signal) => {
    await using bare = await createBareNamespace();
    const wrapper = ["ip", "netns", "exec", bare.ns];
    const env = { P2PFT_RENDEZVOUS: "" };
    const server = spawnCli([
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      String(RENDEZVOUS_PORT),
      "--json",
    ], {
      wrapper,
      env,
    });
    const runs = [server];
    try {
      await server.next("listening", signal);
      const doctor = spawnCli(
        ["doctor", "--rendezvous", `127.0.0.1:${RENDEZVOUS_PORT}`, "--json"],
        { wrapper, env },
      );
      runs.push(doctor);
      const run = await doctor.finished();
      assert.equal(run.code, 0, run.stderr);
      const found = checks(run);
      assert.equal(found.udp.verdict, "ok", JSON.stringify(found.udp));
      // What it found about addresses agrees with the server it reached.
      assert.doesNotMatch(found.addresses.summary, /offline/);
      assert.match(found.addresses.summary, /no peer on another host can reach this one/);
    } finally {
      runs.forEach((run) => run.kill("SIGKILL"));
      await Promise.all(runs.map((run) => run.finished()));
    }
  },
  { timeoutMs: 60_000, ignore: skip.ignore, sanitizeResources: false },
);
