/**
 * Runs local/_loopback_cases.ts in a fresh network namespace (`unshare -n`)
 * whose loopback is switched to carry multicast: real sockets on port 5353,
 * with Deno's sanitizers, and nothing reaches the host's own networks.
 */
import assert from "node:assert/strict";
import { skipUnlessCi } from "../scripts/skip_unless_ci.ts";

const CASES = new URL("./_loopback_cases.ts", import.meta.url).pathname;
/** lo carries IPv4 multicast; IPv6 multicast does not loop there, so a veth pair carries it. */
const SETUP = [
  "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo",
  "sysctl -qw net.ipv6.conf.default.accept_dad=0",
  "ip link add p2pft0 type veth peer name p2pft1",
  "ip addr add fd00::1/64 dev p2pft0 && ip addr add fd00::2/64 dev p2pft1",
  "ip link set p2pft0 up && ip link set p2pft1 up",
  // Their link-local addresses (whose scope ids index the interfaces) come up with the links.
  "ip -6 addr show dev p2pft0 scope link | grep -q fe80 && ip -6 addr show dev p2pft1 scope link | grep -q fe80",
].join(" && ");

async function canUnshare(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `network namespaces need Linux, not ${Deno.build.os}`;
  try {
    const probe = await new Deno.Command("unshare", {
      args: ["-n", "sh", "-c", SETUP],
      stderr: "piped",
    })
      .output();
    if (probe.success) return undefined;
    return `unshare -n with multicast on lo and a veth pair failed: ${
      new TextDecoder().decode(probe.stderr).trim()
    }`;
  } catch (error) {
    return `unshare is not available: ${error instanceof Error ? error.message : error}`;
  }
}

const reason = await canUnshare();
const skip = skipUnlessCi(reason);

Deno.test({
  name: "local: announce and browse over multicast on the loopback of a fresh namespace" +
    skip.note,
  ignore: skip.ignore,
  async fn() {
    if (reason !== undefined) throw new Error(`Cannot run here: ${reason}`);
    const output = await new Deno.Command("unshare", {
      args: [
        "-n",
        "sh",
        "-c",
        `${SETUP} && exec "$0" test -A --no-prompt "$1"`,
        Deno.execPath(),
        CASES,
      ],
      env: { P2PFT_LOCAL_LOOPBACK: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, stdout + new TextDecoder().decode(output.stderr));
    assert.match(stdout, /ok \| 11 passed \| 0 failed/);
  },
});
