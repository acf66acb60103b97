/** IPv4 address codec for the rendezvous wire format: 4 address bytes, then the port u16 BE. */

/** Most candidate addresses one peer may announce. */
export const MAX_CANDIDATES = 8;
/** Bytes one encoded address takes. */
export const ADDR_SIZE = 6;

const IPV4 =
  /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

export function encodeAddr(addr: Deno.NetAddr): Uint8Array {
  if (typeof addr?.hostname !== "string" || !IPV4.test(addr.hostname)) {
    throw new TypeError(
      `Invalid address ${JSON.stringify(addr?.hostname)}: only IPv4 addresses are supported`,
    );
  }
  if (!Number.isInteger(addr.port) || addr.port < 1 || addr.port > 65535) {
    throw new RangeError(
      `Invalid port ${addr.port} for ${addr.hostname}: expected an integer from 1 to 65535`,
    );
  }
  const out = new Uint8Array(ADDR_SIZE);
  addr.hostname.split(".").forEach((octet, i) => out[i] = Number(octet));
  out[4] = addr.port >>> 8;
  out[5] = addr.port & 0xff;
  return out;
}

export function encodeAddrs(addrs: Deno.NetAddr[]): Uint8Array {
  if (!Array.isArray(addrs) || addrs.length > MAX_CANDIDATES) {
    throw new RangeError(
      `Invalid candidates: expected an array of at most ${MAX_CANDIDATES} addresses, got ${
        Array.isArray(addrs) ? addrs.length : typeof addrs
      }`,
    );
  }
  const out = new Uint8Array(addrs.length * ADDR_SIZE);
  addrs.forEach((addr, i) => out.set(encodeAddr(addr), i * ADDR_SIZE));
  return out;
}

/** True when `addr` is an IPv4 `Deno.NetAddr` the wire format can carry. */
export function isEncodableAddr(addr: Deno.NetAddr): boolean {
  return typeof addr?.hostname === "string" && IPV4.test(addr.hostname) &&
    Number.isInteger(addr.port) && addr.port >= 1 && addr.port <= 65535;
}

/** Decodes one address; `fail` reports a port of 0. */
export function decodeAddr(
  bytes: Uint8Array,
  name: string,
  fail: (why: string) => never,
): Deno.NetAddr {
  const port = (bytes[4] << 8) | bytes[5];
  if (port === 0) fail(`field ${name} holds an address with port 0`);
  return { transport: "udp", hostname: `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`, port };
}
