/**
 * The key of a source's per-IP budget, room quota and TCP connection cap. An
 * IPv4 source is one address (hosts behind one NAT share it). An IPv6 host is
 * handed a whole /64 (SLAAC, privacy addresses), so one IPv6 source is its
 * /64 prefix: counting each of its 2^64 addresses apart would give one host
 * unbounded budgets. Pure.
 */
import { parseIpv6 } from "../../base/mod.ts";

/**
 * `from`'s source key: the IPv4 address, the IPv6 /64 prefix (`2001:db8:0:1::/64`),
 * or with `byPort` (tests standing in many hosts on loopback) the address and port.
 * `from` is already normalized (no IPv4-mapped addresses).
 */
export function sourceKey(from: Deno.NetAddr, byPort: boolean): string {
  if (byPort) return `${from.hostname}:${from.port}`;
  if (!from.hostname.includes(":")) return from.hostname;
  const bytes = parseIpv6(from.hostname);
  if (bytes === undefined) return from.hostname;
  const words = [];
  for (let i = 0; i < 8; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return `${words.join(":")}::/64`;
}
