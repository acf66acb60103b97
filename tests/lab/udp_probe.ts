/**
 * Tiny UDP prober for lab tests: from ONE socket, sends `probe` to each target (retrying every
 * 100 ms) and records what each answered (`udp_echo.ts` answers with the address it saw).
 * Imports nothing from a registry.
 *
 *   deno run --unstable-net udp_probe.ts [--bind IP:PORT] [--timeout MS] TARGET...
 *
 * Addresses are `ip:port` or `[ipv6]:port`. Without --bind the socket is `0.0.0.0:0`, or `[::]:0`
 * when a target is IPv6 (then give only IPv6 targets: a dual-stack socket would see an IPv4 answer
 * as coming from `::ffff:a.b.c.d`, which matches no target).
 *
 * Prints one JSON line, then exits 0:
 *   {"local":"ip:port","results":[{"target":"ip:port","observed":"ip:port"|null}, ...]}
 * `observed` is null when the target never answered within the timeout (default 1500 ms).
 */
import { formatAddress, parseAddress } from "./_udp_address.ts";

const RETRY_MS = 100;

async function main(args: string[]): Promise<void> {
  let bind: string | undefined;
  let timeoutMs = 1_500;
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--bind") bind = args[++i];
    else if (args[i] === "--timeout") timeoutMs = Number(args[++i]);
    else targets.push(args[i]);
  }
  const parsed = targets.map(parseAddress);
  const anyIpv6 = parsed.some((target) => target.hostname.includes(":"));
  const local = parseAddress(bind ?? (anyIpv6 ? "[::]:0" : "0.0.0.0:0"));
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: local.hostname,
    port: local.port,
  });
  const observed = new Map<string, string>();
  const probe = new TextEncoder().encode("probe");
  const sendAll = () => {
    for (const target of parsed) {
      if (!observed.has(formatAddress(target))) {
        socket.send(probe, { transport: "udp", ...target }).catch(() => {});
      }
    }
  };
  sendAll();
  const retry = setInterval(sendAll, RETRY_MS);
  const deadline = setTimeout(() => socket.close(), timeoutMs);
  try {
    for await (const [data, from] of socket) {
      const key = formatAddress(from as Deno.NetAddr);
      if (!targets.includes(key) || observed.has(key)) continue;
      try {
        observed.set(key, JSON.parse(new TextDecoder().decode(data)).observed);
      } catch {
        continue; // not an echo answer
      }
      if (observed.size === targets.length) break;
    }
  } catch {
    // socket closed by the deadline
  } finally {
    clearInterval(retry);
    clearTimeout(deadline);
  }
  const addr = formatAddress(socket.addr as Deno.NetAddr);
  try {
    socket.close();
  } catch {
    // already closed by the deadline
  }
  console.log(JSON.stringify({
    local: addr,
    results: targets.map((target) => ({ target, observed: observed.get(target) ?? null })),
  }));
}

if (import.meta.main) await main(Deno.args);
