/**
 * Runs local/_loopback_cases.ts in a fresh network namespace (`unshare -n`)
 * whose loopback is switched to carry multicast: real sockets on port 5353,
 * with Deno's sanitizers, and nothing reaches the host's own networks.
 */
import assert from "node:assert/strict";

const CASES = new URL("./_loopback_cases.ts", import.meta.url).pathname;
const SETUP = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo";

async function canUnshare(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `network namespaces need Linux, not ${Deno.build.os}`;
  try {
    const probe = await new Deno.Command("unshare", {
      args: ["-n", "sh", "-c", SETUP],
      stderr: "piped",
    })
      .output();
    if (probe.success) return undefined;
    return `unshare -n with multicast on lo failed: ${
      new TextDecoder().decode(probe.stderr).trim()
    }`;
  } catch (error) {
    return `unshare is not available: ${error instanceof Error ? error.message : error}`;
  }
}

const reason = await canUnshare();

Deno.test({
  name: "local: announce and browse over multicast on the loopback of a fresh namespace" +
    (reason ? ` (skipped: ${reason})` : ""),
  ignore: reason !== undefined,
  async fn() {
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
    assert.match(stdout, /ok \| 6 passed \| 0 failed/);
  },
});
