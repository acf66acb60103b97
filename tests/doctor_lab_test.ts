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
