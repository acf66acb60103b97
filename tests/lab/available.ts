/** Whether this machine can run the network lab, and why not. */
import { LAB_PREFIX, newLabId } from "./_plan.ts";
import { runCommand } from "./_run.ts";
import { type SkipDecision, skipUnlessCi } from "../../scripts/skip_unless_ci.ts";

/** The answer of `labAvailable`. */
export type LabAvailability = { ok: true } | { ok: false; reason: string };

let cached: Promise<LabAvailability> | undefined;

/**
 * Checks that we are root and that `ip netns`, `nft`, `tc` (tbf) and Python 3 work, by creating
 * and removing one probe namespace. Tests skip with `reason` when this fails (see
 * {@link skipUnlessCi}); `createLab` throws it. The answer is cached.
 */
export function labAvailable(): Promise<LabAvailability> {
  cached ??= probe();
  return cached;
}

/** {@link skipUnlessCi} for a test that builds a lab. */
export async function labSkip(): Promise<SkipDecision> {
  const available = await labAvailable();
  return skipUnlessCi(available.ok ? undefined : available.reason);
}

async function probe(): Promise<LabAvailability> {
  if (Deno.build.os !== "linux") {
    return { ok: false, reason: `the lab needs Linux, not ${Deno.build.os}` };
  }
  if (Deno.uid() !== 0) return { ok: false, reason: `the lab needs root, uid is ${Deno.uid()}` };
  const ns = `${LAB_PREFIX}${newLabId()}-probe`;
  const run = async (what: string, cmd: string, args: string[], stdin?: string) => {
    try {
      const result = await runCommand(cmd, args, { stdin });
      if (result.code === 0) return undefined;
      return `${what} failed (exit ${result.code}): ${result.stderr.trim().split("\n")[0]}`;
    } catch (error) {
      return `${what} failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  };
  const added = await run("ip netns add", "ip", ["netns", "add", ns]);
  if (added) return { ok: false, reason: added };
  try {
    const problem = await run("ip link add veth", "ip", [
      "-n",
      ns,
      "link",
      "add",
      "name",
      "pa",
      "type",
      "veth",
      "peer",
      "name",
      "pb",
    ]) ??
      await run("tc tbf", "tc", [
        "-n",
        ns,
        "qdisc",
        "add",
        "dev",
        "pa",
        "root",
        "tbf",
        "rate",
        "10mbit",
        "burst",
        "16000",
        "latency",
        "50ms",
      ]) ??
      await run("nft", "ip", ["netns", "exec", ns, "nft", "-f", "-"], PROBE_RULESET) ??
      await run("python3", "ip", ["netns", "exec", ns, "python3", "-c", PROBE_PYTHON]);
    return problem ? { ok: false, reason: problem } : { ok: true };
  } finally {
    await runCommand("ip", ["netns", "delete", ns]);
  }
}

const PROBE_RULESET = [
  "table ip probe {",
  "  map m { typeof udp dport : ip daddr . udp dport; flags dynamic,timeout; timeout 1s; }",
  "  chain p { type nat hook postrouting priority srcnat; masquerade fully-random; }",
  "}",
  "",
].join("\n");

const PROBE_PYTHON =
  "import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)).close()";
