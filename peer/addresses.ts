/**
 * Helpers for candidate addresses, IPv4 and IPv6. An address here is a
 * `Deno.NetAddr` whose hostname is dotted IPv4 or IPv6 text without brackets,
 * never IPv4-mapped: `normalizeAddr` is applied where a socket reports a peer.
 */

/** `ip:port` text of an address. */
export function formatAddr(addr: { hostname: string; port: number }): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

const DOTTED =
  /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/**
 * The one spelling of an IP: lower case, and `::ffff:a.b.c.d` (how a
 * dual-stack socket reports an IPv4 peer) as plain `a.b.c.d`.
 */
export function normalizeIp(ip: string): string {
  const lower = ip.toLowerCase();
  if (lower.startsWith("::ffff:") && DOTTED.test(lower.slice(7))) return lower.slice(7);
  return lower;
}

/** `addr` with its hostname normalized (see `normalizeIp`). */
export function normalizeAddr<T extends { hostname: string }>(addr: T): T {
  return { ...addr, hostname: normalizeIp(addr.hostname) };
}

/** Same host and port, however a socket spelled the host. */
export function sameAddr(
  a: { hostname: string; port: number },
  b: { hostname: string; port: number },
): boolean {
  return a.port === b.port && normalizeIp(a.hostname) === normalizeIp(b.hostname);
}

/** IPv6 text (IPv4-mapped text is IPv4 once normalized). */
export function isIpv6(ip: string): boolean {
  return normalizeIp(ip).includes(":");
}

/**
 * True for addresses that only make sense inside one site: RFC 1918, loopback,
 * link-local and carrier-grade NAT (RFC 6598). A path to one of them is a LAN path.
 */
export function isPrivateIpv4(ip: string): boolean {
  if (!DOTTED.test(ip)) return false;
  const [a, b] = ip.split(".").map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/**
 * A path to this address is a LAN path: private IPv4 (`isPrivateIpv4`), or
 * IPv6 unique-local (fc00::/7), link-local (fe80::/10) or loopback.
 */
export function isLanAddress(ip: string): boolean {
  const normal = normalizeIp(ip);
  if (!normal.includes(":")) return isPrivateIpv4(normal);
  const groups = ipv6Groups(normal);
  if (!groups) return false;
  return (groups[0] & 0xfe00) === 0xfc00 || (groups[0] & 0xffc0) === 0xfe80 ||
    groups.every((group, index) => group === (index === 7 ? 1 : 0));
}

/**
 * An IPv6 address a peer elsewhere can reach: global or unique-local; never
 * the unspecified address, loopback, link-local (it needs a scope id),
 * multicast or IPv4-mapped.
 */
export function isOfferableIpv6(ip: string): boolean {
  const groups = ipv6Groups(ip.toLowerCase());
  if (!groups) return false;
  const [first] = groups;
  const zeros = groups.slice(0, 5).every((group) => group === 0);
  if (zeros && (groups[5] === 0 || groups[5] === 0xffff)) return false; // ::, ::1, ::a.b.c.d, mapped
  if ((first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00) return false;
  return true;
}

/** Whether `addrs` hold a global IPv6 address (not unique-local): the internet is reachable over IPv6. */
export function hasGlobalIpv6(addrs: readonly { hostname: string }[]): boolean {
  return addrs.some((addr) => isOfferableIpv6(addr.hostname) && !isLanAddress(addr.hostname));
}

/** The eight 16-bit groups of IPv6 text, or undefined when it is not IPv6. */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip;
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    if (!DOTTED.test(dotted[2])) return undefined;
    const [a, b, c, d] = dotted[2].split(".").map(Number);
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => part === "" ? [] : part.split(":");
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const hex = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (!hex.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return hex.map((group) => parseInt(group, 16));
}

/** One interface address, as `Deno.networkInterfaces()` lists it. */
export type InterfaceAddress = Pick<Deno.NetworkInterfaceInfo, "family" | "address">;

/**
 * The candidates a peer can try for us, from this machine's interface
 * addresses: IPv4 first (loopback left out: the rendezvous server already
 * reports it when both peers run beside the server), then global and
 * unique-local IPv6. At most `limit`, with up to half kept for IPv6 when
 * there are that many IPv4 addresses.
 */
export function candidatesFrom(
  interfaces: readonly InterfaceAddress[],
  port: number,
  limit = 8,
): Deno.NetAddr[] {
  const ipv4 = new Set<string>();
  const ipv6 = new Set<string>();
  for (const { family, address } of interfaces) {
    if (family === "IPv4" && DOTTED.test(address) && !address.startsWith("127.")) {
      ipv4.add(address);
    } else if (family === "IPv6" && isOfferableIpv6(address)) {
      ipv6.add(address.toLowerCase());
    }
  }
  const v6Room = Math.min(ipv6.size, Math.floor(limit / 2));
  const v4 = [...ipv4].slice(0, limit - v6Room);
  const v6 = [...ipv6].slice(0, limit - v4.length);
  return [...v4, ...v6].map((hostname) => ({ transport: "udp", hostname, port }));
}

/** This machine's candidates with `port` (see `candidatesFrom`). */
export function localCandidates(port: number, limit = 8): Deno.NetAddr[] {
  return candidatesFrom(Deno.networkInterfaces(), port, limit);
}

/**
 * Binds with `bind("::")`, which takes both families, or with
 * `bind("0.0.0.0")` where the host has no IPv6. A port in use is an error
 * either way.
 */
export function bindEitherStack<T>(bind: (hostname: "::" | "0.0.0.0") => T): T {
  try {
    return bind("::");
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) throw error;
    return bind("0.0.0.0");
  }
}
