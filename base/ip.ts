/**
 * IP address text and bytes, shared by every layer: one parser and one
 * canonical spelling (RFC 5952, which is how Deno reports addresses), so an
 * address read off the wire, from an advert or from a flag compares equal to
 * the same address reported by a socket; and the one rule for binding both
 * families where the host has them.
 */

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** Whether `text` is a dotted IPv4 address. */
export function isIpv4Text(text: string): boolean {
  return parseIpv4(text) >= 0;
}

/**
 * The 32-bit value of dotted IPv4 text (four decimal octets, no leading
 * zeros), or -1 when `text` is not one. One pass over the characters: it runs
 * on every datagram the rendezvous server answers.
 */
export function parseIpv4(text: string): number {
  if (typeof text !== "string" || text.length < 7 || text.length > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (code >= 0x30 && code <= 0x39 && !(digits === 1 && octet === 0)) {
      octet = octet * 10 + code - 0x30;
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  return digits === 0 || dots !== 3 ? -1 : value * 256 + octet;
}

/**
 * The 16 bytes of an IPv6 address text (`::` shorthand and a dotted IPv4
 * tail allowed, no zone id, no brackets), or undefined when it is not one.
 */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (typeof text !== "string" || text.length > 45 || !text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const words = (half: string, last: boolean): number[] | undefined => {
    if (half === "") return [];
    const parts = half.split(":");
    const out: number[] = [];
    for (const [i, part] of parts.entries()) {
      if (last && i === parts.length - 1 && isIpv4Text(part)) {
        const [a, b, c, d] = part.split(".").map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else if (HEXTET.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  // A dotted quad may only end the address.
  const head = words(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? words(halves[1], true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((word, i) => {
    out[2 * i] = word >>> 8;
    out[2 * i + 1] = word & 0xff;
  });
  return out;
}

/**
 * RFC 5952 text of 16 address bytes: lower case, no leading zeros, the
 * longest run of two or more zero groups (the first of equals) as `::`, and
 * an IPv4-mapped address as `::ffff:a.b.c.d`.
 */
export function formatIpv6(bytes: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  if (isIpv4Mapped(bytes)) return `::ffff:${Array.from(bytes.subarray(12, 16)).join(".")}`;
  let best = { start: -1, length: 1 };
  for (let start = 0; start < 8;) {
    let end = start;
    while (end < 8 && words[end] === 0) end++;
    if (end - start > best.length) best = { start, length: end - start };
    start = end === start ? start + 1 : end;
  }
  const hex = words.map((word) => word.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

/** `ip` in its one spelling: IPv6 in RFC 5952 text, anything else unchanged. */
export function canonicalIp(ip: string): string {
  const v6 = parseIpv6(ip);
  return v6 === undefined ? ip : formatIpv6(v6);
}

/**
 * The one spelling of an IP, as every layer compares addresses: IPv6 in RFC
 * 5952 text, and an IPv4-mapped address (how a dual-stack socket reports an
 * IPv4 peer) as plain `a.b.c.d`. Runs on every datagram a dual-stack server
 * receives: IPv4 and mapped text take no parse.
 */
export function normalizeIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  const tail = ip.slice(7);
  if (/^::ffff:/i.test(ip) && isIpv4Text(tail)) return tail;
  const v6 = parseIpv6(ip);
  if (v6 === undefined) return ip;
  return isIpv4Mapped(v6) ? Array.from(v6.subarray(12, 16)).join(".") : formatIpv6(v6);
}

/** `addr` with its hostname normalized (`normalizeIp`); `addr` itself when already so. */
export function normalizeAddr<T extends { hostname: string }>(addr: T): T {
  const hostname = normalizeIp(addr.hostname);
  return hostname === addr.hostname ? addr : { ...addr, hostname };
}

/** The 16 bytes of an IPv4-mapped IPv6 address (`::ffff:0:0/96`). */
export function isIpv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * An IPv6 address a peer elsewhere can reach: global or unique-local; never
 * the unspecified address, loopback, the deprecated IPv4-compatible or the
 * IPv4-mapped form, multicast, or link-local (it needs the interface's scope
 * id, which neither the rendezvous wire nor an AAAA record carries).
 */
export function isReachableIpv6(bytes: Uint8Array): boolean {
  const zeros = bytes.subarray(0, 10).every((byte) => byte === 0);
  if (zeros && bytes[10] === bytes[11] && (bytes[10] === 0 || bytes[10] === 0xff)) return false;
  if (bytes[0] === 0xff) return false;
  return !(bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80);
}

/** Whether IPv6 address `ip` lies in `prefix` (`address/bits`, as `Deno.networkInterfaces` gives `cidr`). */
export function inIpv6Prefix(ip: string, prefix: string): boolean {
  const slash = prefix.lastIndexOf("/");
  const bits = Number(prefix.slice(slash + 1));
  const target = parseIpv6(ip);
  const network = parseIpv6(prefix.slice(0, slash));
  if (!target || !network || slash < 0 || !Number.isInteger(bits) || bits < 0 || bits > 128) {
    return false;
  }
  for (let i = 0; i < 16; i++) {
    const take = Math.max(0, Math.min(8, bits - 8 * i));
    const mask = (0xff << (8 - take)) & 0xff;
    if ((target[i] & mask) !== (network[i] & mask)) return false;
  }
  return true;
}

/** What a bind to "::" fails with on a host without IPv6 (no IPv6 in the kernel, or none usable). */
const NO_IPV6 = new Set(["EAFNOSUPPORT", "EADDRNOTAVAIL"]);

/** Whether `error` (or one of its causes) says this host has no IPv6. */
export function lacksIpv6(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: string }).code;
    if (NO_IPV6.has(code ?? "") || /\(os error (97|99)\)/.test(e.message)) return true;
  }
  return false;
}

/**
 * `bind("::")` (dual-stack: IPv4 peers arrive IPv4-mapped), or
 * `bind("0.0.0.0")` where this host has no IPv6 (`lacksIpv6`); any other
 * error, such as a port in use, is thrown.
 */
export function bindEitherStack<T>(bind: (hostname: "::" | "0.0.0.0") => T): T {
  try {
    return bind("::");
  } catch (error) {
    if (!lacksIpv6(error)) throw error;
    return bind("0.0.0.0");
  }
}

/** `ip:port` text of an address. */
export function formatAddr(addr: { hostname: string; port: number }): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/** Same host and port, however a socket spelled the host. */
export function sameAddr(
  a: { hostname: string; port: number },
  b: { hostname: string; port: number },
): boolean {
  return a.port === b.port && normalizeIp(a.hostname) === normalizeIp(b.hostname);
}
