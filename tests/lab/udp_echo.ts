/**
 * Tiny UDP echo for lab tests, in the manner of STUN: answers every datagram `probe` with
 * `{"observed":"ip:port"}`, the sender's address as seen here. Imports nothing, so it runs inside
 * lab namespaces that cannot reach a package registry.
 *
 *   deno run --unstable-net udp_echo.ts --bind IP:PORT [--prime IP:PORT]
 *
 * Addresses are `ip:port` or `[ipv6]:port` (bind a specific family: a `[::]` socket reports IPv4
 * peers as `::ffff:a.b.c.d`).
 *
 * stdout, one JSON object per line:
 *   {"type":"ready","address":"ip:port"}      bound and listening
 *   {"type":"mapped","address":"ip:port"}     with --prime: a probe was sent to that echo first
 *                                             (opening a NAT mapping) and this is the answer
 *   {"type":"probe","from":"ip:port"}         a probe arrived and was answered
 * Runs until killed.
 */
import { formatAddress, parseAddress } from "./_udp_address.ts";

const PRIME_RETRY_MS = 200;

async function main(args: string[]): Promise<void> {
  const bind = parseAddress(flag(args, "--bind") ?? "0.0.0.0:0");
  const prime = flag(args, "--prime");
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: bind.hostname,
    port: bind.port,
  });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const say = (line: Record<string, string>) => console.log(JSON.stringify(line));
  say({ type: "ready", address: formatAddress(socket.addr as Deno.NetAddr) });
  let primed = prime === undefined;
  const primeTarget = prime === undefined ? undefined : parseAddress(prime);
  const primer = primeTarget && setInterval(() => {
    if (!primed) socket.send(encoder.encode("probe"), { transport: "udp", ...primeTarget });
  }, PRIME_RETRY_MS);
  if (primeTarget) await socket.send(encoder.encode("probe"), { transport: "udp", ...primeTarget });
  for await (const [data, from] of socket) {
    const remote = from as Deno.NetAddr;
    const text = decoder.decode(data);
    if (text === "probe") {
      await socket.send(
        encoder.encode(JSON.stringify({ observed: formatAddress(remote) })),
        remote,
      );
      say({ type: "probe", from: formatAddress(remote) });
    } else if (!primed && primeTarget && remote.hostname === primeTarget.hostname) {
      primed = true;
      clearInterval(primer);
      say({ type: "mapped", address: JSON.parse(text).observed });
    }
  }
}

function flag(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

if (import.meta.main) await main(Deno.args);
