/** `ip:port` / `[ipv6]:port` text <-> address objects, for the lab's UDP helper scripts. */

/** Parses `1.2.3.4:5678` or `[2001:db8::1]:5678`; throws `TypeError` naming the bad text. */
export function parseAddress(text: string): { hostname: string; port: number } {
  const match = /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-fA-F:.]+)\]):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new TypeError(
      `Cannot parse address ${JSON.stringify(text)}: expected IPv4:port or [IPv6]:port`,
    );
  }
  return { hostname: match[1] ?? match[2], port };
}

/** `1.2.3.4:5678` or `[2001:db8::1]:5678` of a socket address. */
export function formatAddress(addr: { hostname: string; port: number }): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
