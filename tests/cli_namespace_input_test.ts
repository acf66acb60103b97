/**
 * What the CLI says where the network is not there: `deno run -A main.ts` in fresh network
 * namespaces (`unshare -n`), with no route or with one LAN of its own, so that no lookup and no
 * multicast leaves the host. Each answer is one line and the documented exit code (the answers to
 * bad input on a working network are in cli_input_test.ts).
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { skipUnlessCi } from "../scripts/skip_unless_ci.ts";

const TEST_TIMEOUT_MS = 60_000;
const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Whether `unshare -n` works here: a namespace with no route, where no lookup leaves the host. */
async function unshareMissing(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `network namespaces need Linux, not ${Deno.build.os}`;
  try {
    const probe = await new Deno.Command("unshare", { args: ["-n", "true"], stderr: "piped" })
      .output();
    return probe.success
      ? undefined
      : `unshare -n failed: ${new TextDecoder().decode(probe.stderr)}`;
  } catch (error) {
    return `unshare is not available: ${error instanceof Error ? error.message : error}`;
  }
}

const noRoute = skipUnlessCi(await unshareMissing());

/** `main.ts ARGS` in a fresh namespace with no route, with `env` (and NO_COLOR): its exit and stderr. */
async function withoutRoute(args: string[], env: Record<string, string>, signal: AbortSignal) {
  const result = await new Deno.Command("unshare", {
    args: ["-n", Deno.execPath(), "run", "-A", MAIN, ...args],
    env: { ...env, NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    signal,
  }).output();
  return { code: result.code, stderr: new TextDecoder().decode(result.stderr) };
}

boundedTest(
  "a P2PFT_RENDEZVOUS name that does not resolve is named with the variable it came from, a serve --host one is a usage error" +
    noRoute.note,
  async (signal) => {
    // In a fresh namespace the resolver has no route: the lookup fails at once, nothing leaves.
    for (const args of [["send", MAIN], ["receive", "7-later-cross", "--yes"], ["doctor"]]) {
      const { code, stderr } = await withoutRoute(
        args,
        { P2PFT_RENDEZVOUS: "no-such-server" },
        signal,
      );
      assert.equal(code, 1, stderr);
      assert.match(
        stderr,
        /^error: Cannot resolve rendezvous server "no-such-server" \(set by P2PFT_RENDEZVOUS: fix or unset it, or pass --rendezvous HOST:PORT\)\n$/,
        args[0],
      );
    }
    // A --host name that does not resolve: a usage error, not "unexpected failure".
    const serve = await withoutRoute(["serve", "--host", "no-such-host"], {}, signal);
    assert.equal(serve.code, 2, serve.stderr);
    assert.match(
      serve.stderr,
      /^error: Cannot listen on --host no-such-host: [^\n]+; give an address of this host \(or a name that resolves to one\), or leave --host out to listen on every address\n$/,
    );
  },
  { timeoutMs: TEST_TIMEOUT_MS, ignore: noRoute.ignore },
);

/**
 * A fresh namespace whose one LAN is a veth pair with a route for multicast DNS: local discovery
 * runs there as on a real network, and nothing leaves the host.
 */
const LAN_WITHOUT_ROUTES = [
  "ip link set lo up",
  "ip link add p2pft0 type veth peer name p2pft1",
  "ip addr add 10.9.0.1/24 dev p2pft0",
  "ip link set p2pft0 up && ip link set p2pft1 up",
].join(" && ");
const FRESH_LAN = `${LAN_WITHOUT_ROUTES} && ip route add 224.0.0.0/4 dev p2pft0`;

async function freshLanMissing(): Promise<string | undefined> {
  const missing = await unshareMissing();
  if (missing !== undefined) return missing;
  try {
    const probe = await new Deno.Command("unshare", {
      args: ["-n", "sh", "-c", FRESH_LAN],
      stderr: "piped",
    }).output();
    if (probe.success) return undefined;
    return `a veth pair in unshare -n failed: ${new TextDecoder().decode(probe.stderr).trim()}`;
  } catch (error) {
    return `ip is not available: ${error instanceof Error ? error.message : error}`;
  }
}

const noLan = skipUnlessCi(await freshLanMissing());

/** `main.ts ARGS` with no server, in a fresh namespace set up by `setup`. */
async function inNamespace(setup: string, args: string, signal: AbortSignal) {
  const result = await new Deno.Command("unshare", {
    args: ["-n", "sh", "-c", `${setup} && exec "$0" run -A "$1" ${args}`, Deno.execPath(), MAIN],
    env: { P2PFT_RENDEZVOUS: "", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  const text = new TextDecoder();
  return {
    code: result.code,
    stdout: text.decode(result.stdout),
    stderr: text.decode(result.stderr),
  };
}

/** `receive 7-later-cross --yes --timeout 2` with no server, in a fresh namespace set up by `setup`. */
function receiveInNamespace(setup: string, signal: AbortSignal) {
  return inNamespace(setup, "receive 7-later-cross --yes --timeout 2", signal);
}

boundedTest(
  "receive --timeout S without a server looks on the local network for S s, not at least 5; a network without a multicast route says so" +
    noLan.note,
  async (signal) => {
    const result = await receiveInNamespace(FRESH_LAN, signal);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^error: No sender with nameplate 7 answered on the local network within 2 s; without a rendezvous server only this network is searched \(pass --rendezvous HOST:PORT or set P2PFT_RENDEZVOUS for a sender elsewhere\)\n$/,
    );
    // No route for multicast (nor a default one): one line, without Deno's "(os error 101)".
    const unrouted = await receiveInNamespace(LAN_WITHOUT_ROUTES, signal);
    assert.equal(unrouted.code, 1);
    assert.equal(
      unrouted.stderr,
      "error: Cannot send multicast DNS to 224.0.0.251 port 5353: Network is unreachable\n",
    );
  },
  { timeoutMs: TEST_TIMEOUT_MS, ignore: noLan.ignore },
);

boundedTest(
  "send without a server on a network with no route for multicast fails before it shows a code" +
    noLan.note,
  async (signal) => {
    const result = await inNamespace(LAN_WITHOUT_ROUTES, `send "${MAIN}"`, signal);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      result.stderr,
      "error: Cannot send multicast DNS to 224.0.0.251 port 5353: Network is unreachable\n",
    );
    assert.doesNotMatch(result.stdout, /Code is|receive/, "no code was shown");
  },
  { timeoutMs: TEST_TIMEOUT_MS, ignore: noLan.ignore },
);
