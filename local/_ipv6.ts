/**
 * IPv6 text and bytes for AAAA records: parsing any valid spelling, writing
 * the one canonical spelling (RFC 5952), which is how Deno reports addresses,
 * so an address read from an advert compares equal to the same address seen
 * on a socket. Pure.
 */

const DOTTED =
  /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** The 16 bytes of IPv6 text (`::` shorthand and a dotted IPv4 tail allowed), or undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  let groupsText = text;
  const tail = text.match(/^(.*:)([^:]*\.[^:]*)$/);
  if (tail) {
    if (!DOTTED.test(tail[2])) return undefined;
    const [a, b, c, d] = tail[2].split(".").map(Number);
    groupsText = `${tail[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = groupsText.split("::");
  if (halves.length > 2) return undefined;
  const split = (part: string) => part === "" ? [] : part.split(":");
  const head = split(halves[0]);
  const rest = halves.length === 2 ? split(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (!groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  groups.forEach((group, index) => view.setUint16(2 * index, parseInt(group, 16)));
  return bytes;
}

/**
 * RFC 5952 text of 16 address bytes: lower case, no leading zeros, the
 * longest run of two or more zero groups (the first of equals) as `::`, and
 * an IPv4-mapped address as `::ffff:a.b.c.d`.
 */
export function formatIpv6(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const groups = Array.from({ length: 8 }, (_, i) => view.getUint16(2 * i));
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.slice(12).join(".")}`;
  }
  let best = { start: -1, length: 1 };
  for (let start = 0; start < 8;) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > best.length) best = { start, length: end - start };
    start = end === start ? start + 1 : end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(":");
  const before = hex.slice(0, best.start).join(":");
  const after = hex.slice(best.start + best.length).join(":");
  return `${before}::${after}`;
}

/**
 * Whether a peer elsewhere on the LAN can reach this address without more
 * context: not unspecified, loopback, IPv4-mapped, multicast or link-local
 * (a link-local address needs the interface's scope id, which an AAAA record
 * cannot carry).
 */
export function isReachableIpv6(bytes: Uint8Array): boolean {
  const zeros = bytes.subarray(0, 10).every((byte) => byte === 0);
  if (zeros && bytes[10] === bytes[11] && (bytes[10] === 0 || bytes[10] === 0xff)) {
    return false; // ::, ::1 and the deprecated ::a.b.c.d; ::ffff:a.b.c.d
  }
  if (bytes[0] === 0xff) return false;
  return !(bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80);
}
