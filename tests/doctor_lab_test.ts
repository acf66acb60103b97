/**
 * `p2pft doctor` in the NAT lab: the real CLI behind an emulated cone NAT and
 * an emulated symmetric NAT reports each mapping as the rendezvous server's
 * two ports see it.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { type CliEvent, type CliRun, spawnCli } from "../scripts/cli_process.ts";
import { createLab, labSkip } from "./lab/mod.ts";

const skip = await labSkip();
const RENDEZVOUS_PORT = 9000;

boundedTest(
  `lab: doctor reports endpoint-independent behind the cone NAT and endpoint-dependent behind the symmetric one${skip.note}`,
  async (signal) => {
    const runs: CliRun[] = [];
    const killAll = () => runs.forEach((run) => run.kill("SIGKILL"));
    signal.addEventListener("abort", killAll, { once: true });
    try {
      await using lab = await createLab({
        natA: "endpoint-independent",
        natB: "symmetric",
        signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
      });
      const spawn = (ns: string, args: string[]) => {
        const run = spawnCli(args, { wrapper: ["ip", "netns", "exec", ns] });
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
      ]);
      await server.next("listening", signal);
      const doctor = (ns: string) =>
        spawn(ns, ["doctor", "--rendezvous", `${lab.rendezvous.ip}:${RENDEZVOUS_PORT}`, "--json"])
          .finished();
      const [cone, symmetric] = await Promise.all([doctor(lab.hostA.ns), doctor(lab.hostB.ns)]);
      const check = (events: CliEvent[], name: string) =>
        events.find((event) => event.type === "check" && event.check === name) as
          | (CliEvent & { verdict: string; facts: Record<string, unknown> })
          | undefined;
      for (const run of [cone, symmetric]) {
        assert.equal(run.code, 0, run.stderr);
        assert.equal(check(run.events, "udp")?.verdict, "ok", JSON.stringify(run.events));
        assert.deepEqual(
          run.events.filter((event) => event.type === "check").map((event) => event.check),
          ["addresses", "udp", "tcp", "nat", "ipv6", "local", "path"],
        );
      }
      const coneNat = check(cone.events, "nat")!;
      assert.equal(coneNat.facts.mapping, "endpoint-independent", JSON.stringify(coneNat));
      assert.equal(coneNat.facts.observed, coneNat.facts.altObserved);
      assert.match(String(coneNat.facts.observed), new RegExp(`^${lab.hostA.publicIp}:`));
      assert.equal(check(cone.events, "path")?.facts.path, "direct");

      const symmetricNat = check(symmetric.events, "nat")!;
      assert.equal(symmetricNat.facts.mapping, "endpoint-dependent", JSON.stringify(symmetricNat));
      assert.notEqual(symmetricNat.facts.observed, symmetricNat.facts.altObserved);
      assert.equal(symmetricNat.verdict, "warning");
      assert.equal(check(symmetric.events, "path")?.facts.path, "relay");
    } finally {
      signal.removeEventListener("abort", killAll);
      killAll();
      await Promise.all(runs.map((run) => run.finished()));
    }
  },
  { timeoutMs: 120_000, ignore: skip.ignore, sanitizeResources: false },
);

boundedTest(
  `lab: doctor checks a server on [::1] over UDP and TCP, and with no server still checks this host${skip.note}`,
  async (signal) => {
    const runs: CliRun[] = [];
    const killAll = () => runs.forEach((run) => run.kill("SIGKILL"));
    signal.addEventListener("abort", killAll, { once: true });
    try {
      await using lab = await createLab({
        natA: "endpoint-independent",
        natB: "endpoint-independent",
        ipv6: "dual",
        signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
      });
      const spawn = (ns: string, args: string[]) => {
        const run = spawnCli(args, {
          wrapper: ["ip", "netns", "exec", ns],
          env: { P2PFT_RENDEZVOUS: "" },
        });
        runs.push(run);
        return run;
      };
      const server = spawn(lab.rendezvous.ns, [
        "serve",
        "--host",
        "::1",
        "--port",
        String(RENDEZVOUS_PORT),
        "--json",
      ]);
      await server.next("listening", signal);
      const [ipv6, alone, aloneText] = await Promise.all([
        spawn(lab.rendezvous.ns, ["doctor", "--rendezvous", `[::1]:${RENDEZVOUS_PORT}`, "--json"])
          .finished(),
        spawn(lab.hostA.ns, ["doctor", "--json"]).finished(),
        spawn(lab.hostA.ns, ["doctor"]).finished(),
      ]);
      const checks = (events: CliEvent[]) =>
        Object.fromEntries(
          events.filter((event) => event.type === "check").map((event) => [event.check, event]),
        ) as Record<string, CliEvent & { verdict: string; facts: Record<string, unknown> }>;

      assert.equal(ipv6.code, 0, `${ipv6.stderr}${JSON.stringify(ipv6.events)}`);
      const served = checks(ipv6.events);
      assert.equal(served.udp.verdict, "ok", JSON.stringify(served.udp));
      assert.match(String(served.udp.facts.observed), /^\[::1\]:\d+$/);
      assert.equal(served.tcp.verdict, "ok", JSON.stringify(served.tcp));
      assert.equal(served.path.facts.path, "direct");

      assert.equal(alone.code, 0, `${alone.stderr}${JSON.stringify(alone.events)}`);
      const own = checks(alone.events);
      assert.deepEqual(Object.keys(own), [
        "addresses",
        "udp",
        "tcp",
        "nat",
        "ipv6",
        "local",
        "path",
      ]);
      for (const name of ["udp", "tcp", "nat"]) {
        assert.equal(own[name].verdict, "info");
        assert.match(String(own[name].summary), /no rendezvous server is configured/);
      }
      assert.ok((own.ipv6.facts.candidates as string[]).includes(lab.hostA.ip6!));
      assert.equal(own.local.facts.works, true, JSON.stringify(own.local));
      assert.equal(own.path.facts.path, "lan");
      assert.equal(aloneText.code, 0, aloneText.stderr);
      assert.match(aloneText.stdout, /no rendezvous server is configured/);
    } finally {
      signal.removeEventListener("abort", killAll);
      killAll();
      await Promise.all(runs.map((run) => run.finished()));
    }
  },
  { timeoutMs: 120_000, ignore: skip.ignore, sanitizeResources: false },
);
