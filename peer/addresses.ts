/** Helpers for IPv4 candidate addresses. */

/** `ip:port` text of an address. */
export function formatAddr(addr: { hostname: string; port: number }): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/** Same host and port. */
export function sameAddr(
  a: { hostname: string; port: number },
  b: { hostname: string; port: number },
): boolean {
  return a.hostname === b.hostname && a.port === b.port;
}

/**
 * True for addresses that only make sense inside one site: RFC 1918, loopback,
 * link-local and carrier-grade NAT (RFC 6598). A path to one of them is a LAN path.
 */
export function isPrivateIpv4(ip: string): boolean {
  const octets = ip.split(".").map(Number);
  if (octets.length !== 4 || octets.some((octet) => !(octet >= 0 && octet <= 255))) return false;
  const [a, b] = octets;
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/**
 * This machine's own IPv4 addresses with `port`: the candidates a peer on the
 * same LAN can use. Loopback is left out: the rendezvous server already reports
 * it when both peers run beside the server.
 */
export function localCandidates(port: number, limit = 8): Deno.NetAddr[] {
  const seen = new Set<string>();
  const candidates: Deno.NetAddr[] = [];
  for (const iface of Deno.networkInterfaces()) {
    if (iface.family !== "IPv4" || iface.address.startsWith("127.") || seen.has(iface.address)) {
      continue;
    }
    seen.add(iface.address);
    candidates.push({ transport: "udp", hostname: iface.address, port });
  }
  return candidates.slice(0, limit);
}

/**
 * `ip` as the address contract spells it: lower case, and an IPv4-mapped IPv6
 * address (`::ffff:a.b.c.d`, how a dual-stack socket reports an IPv4 peer) as
 * its dotted IPv4 address.
 */
export function normalizeIp(ip: string): string {
  const lower = ip.toLowerCase();
  if (lower.startsWith("::ffff:")) {
    const rest = lower.slice(7);
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(rest)) return rest;
  }
  return lower;
}

/** `addr` with its hostname through {@link normalizeIp}. */
export function normalizeAddr<A extends { hostname: string }>(addr: A): A {
  const hostname = normalizeIp(addr.hostname);
  return hostname === addr.hostname ? addr : { ...addr, hostname };
}
