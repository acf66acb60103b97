/**
 * Helpers for candidate addresses, IPv4 and IPv6. An address here is a
 * `Deno.NetAddr` whose hostname is dotted IPv4 or IPv6 text without brackets,
 * never IPv4-mapped: `normalizeAddr` is applied where a socket reports a peer.
 */
import {
  inIpv6Prefix,
  isIpv4Text,
  isReachableIpv6,
  normalizeIp,
  parseIpv6,
} from "../../base/mod.ts";

/** IPv6 text (IPv4-mapped text is IPv4 once normalized). */
export function isIpv6(ip: string): boolean {
  return normalizeIp(ip).includes(":");
}

/**
 * True for addresses that only make sense inside one site: RFC 1918, loopback,
 * link-local and carrier-grade NAT (RFC 6598). A path to one of them is a LAN path.
 */
export function isPrivateIpv4(ip: string): boolean {
  if (!isIpv4Text(ip)) return false;
  const [a, b] = ip.split(".").map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/**
 * A path to this address is a LAN path: private IPv4 (`isPrivateIpv4`); IPv6
 * unique-local (fc00::/7), link-local (fe80::/10) or loopback; or an address
 * inside one of `onLink`, the IPv6 prefixes of this machine's own interfaces
 * (`onLinkIpv6Prefixes`): on an IPv6-only LAN the neighbours' addresses are
 * global ones.
 */
export function isLanAddress(ip: string, onLink: readonly string[] = []): boolean {
  const normal = normalizeIp(ip);
  const v6 = parseIpv6(normal);
  if (v6 === undefined) return isPrivateIpv4(normal);
  const loopback = v6.subarray(0, 15).every((byte) => byte === 0) && v6[15] === 1;
  return (v6[0] & 0xfe) === 0xfc || (v6[0] === 0xfe && (v6[1] & 0xc0) === 0x80) || loopback ||
    onLink.some((prefix) => inIpv6Prefix(normal, prefix));
}

/** The prefixes (`cidr`) of this machine's global IPv6 interface addresses. */
export function onLinkIpv6Prefixes(
  interfaces: readonly Pick<Deno.NetworkInterfaceInfo, "family" | "address" | "cidr">[],
): string[] {
  return interfaces.filter((iface) => iface.family === "IPv6" && isOfferableIpv6(iface.address))
    .map((iface) => iface.cidr);
}

/**
 * An IPv6 address a peer elsewhere can reach: global or unique-local; never
 * the unspecified address, loopback, link-local (it needs a scope id),
 * multicast or IPv4-mapped.
 */
export function isOfferableIpv6(ip: string): boolean {
  const v6 = parseIpv6(ip);
  return v6 !== undefined && isReachableIpv6(v6);
}

/** Whether `addrs` hold a global IPv6 address (not unique-local): the internet is reachable over IPv6. */
export function hasGlobalIpv6(addrs: readonly { hostname: string }[]): boolean {
  return addrs.some((addr) => isOfferableIpv6(addr.hostname) && !isLanAddress(addr.hostname));
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
    if (family === "IPv4" && isIpv4Text(address) && !address.startsWith("127.")) {
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
