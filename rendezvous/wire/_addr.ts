/**
 * Address codec for the rendezvous wire format: a family byte (4 or 6), the
 * IPv4 (4 bytes) or IPv6 (16 bytes) address, then the port u16 BE. Pure.
 *
 * IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are refused both ways: the
 * sender normalizes them to dotted IPv4, so one host has one wire form and
 * one cookie.
 */

import { formatIpv6, isIpv4Mapped, isIpv4Text, parseIpv4, parseIpv6 } from "../../base/mod.ts";

/** Most candidate addresses one peer may announce. */
export const MAX_CANDIDATES = 8;
/** Bytes of an encoded IPv4 address: family, 4 address bytes, port. */
export const IPV4_ADDR_SIZE = 7;
/** Bytes of an encoded IPv6 address: family, 16 address bytes, port. */
export const IPV6_ADDR_SIZE = 19;
/** The longest encoded address. */
export const MAX_ADDR_SIZE = IPV6_ADDR_SIZE;
/** Family byte values. */
export const FAMILY_IPV4 = 4;
export const FAMILY_IPV6 = 6;

/** Why `addr` cannot go on the wire (a bad port is a RangeError), or undefined when it can. */
function unencodable(addr: Deno.NetAddr): TypeError | RangeError | undefined {
  const hostname = addr?.hostname;
  if (typeof hostname !== "string") {
    return new TypeError(`Invalid address ${JSON.stringify(hostname)}`);
  }
  if (!isIpv4Text(hostname)) {
    const v6 = parseIpv6(hostname);
    if (v6 === undefined) {
      return new TypeError(
        `Invalid address ${
          JSON.stringify(hostname)
        }: expected an IPv4 or IPv6 address (no brackets, no zone)`,
      );
    }
    if (isIpv4Mapped(v6)) {
      return new TypeError(
        `Invalid address ${
          JSON.stringify(hostname)
        }: an IPv4-mapped IPv6 address goes on the wire as its dotted IPv4 address`,
      );
    }
  }
  if (!validPort(addr.port)) {
    return new RangeError(
      `Invalid port ${addr.port} for ${hostname}: expected an integer from 1 to 65535`,
    );
  }
  return undefined;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/**
 * @throws {TypeError} when `addr` is neither IPv4 nor IPv6, or is IPv4-mapped;
 * {RangeError} for a port outside 1..65535.
 */
export function encodeAddr(addr: Deno.NetAddr): Uint8Array {
  const out = new Uint8Array(addrSize(addr));
  writeAddr(out, 0, addr);
  return out;
}

/** The encoded size of `addr`. @throws as {@link encodeAddr}. */
export function addrSize(addr: Deno.NetAddr): number {
  if (parseIpv4(addr?.hostname) >= 0 && validPort(addr.port)) return IPV4_ADDR_SIZE;
  const error = unencodable(addr);
  if (error !== undefined) throw error;
  return IPV6_ADDR_SIZE;
}

/**
 * Writes `addr` at `out[offset]` as {@link encodeAddr} encodes it; returns
 * the bytes written. An IPv4 address (what a server mostly sees) takes one
 * pass over its text and allocates nothing.
 * @throws as {@link encodeAddr}.
 */
export function writeAddr(out: Uint8Array, offset: number, addr: Deno.NetAddr): number {
  const v4 = parseIpv4(addr?.hostname);
  if (v4 < 0 || !validPort(addr.port)) {
    const error = unencodable(addr);
    if (error !== undefined) throw error;
  }
  const size = v4 >= 0 ? IPV4_ADDR_SIZE : IPV6_ADDR_SIZE;
  if (v4 >= 0) {
    out[offset] = FAMILY_IPV4;
    out[offset + 1] = v4 >>> 24;
    out[offset + 2] = v4 >>> 16;
    out[offset + 3] = v4 >>> 8;
    out[offset + 4] = v4;
  } else {
    out[offset] = FAMILY_IPV6;
    out.set(parseIpv6(addr.hostname)!, offset + 1);
  }
  out[offset + size - 2] = addr.port >>> 8;
  out[offset + size - 1] = addr.port & 0xff;
  return size;
}

export function encodeAddrs(addrs: Deno.NetAddr[]): Uint8Array {
  const encoded = checkedAddrs(addrs).map(encodeAddr);
  const out = new Uint8Array(encoded.reduce((sum, one) => sum + one.length, 0));
  let offset = 0;
  for (const one of encoded) {
    out.set(one, offset);
    offset += one.length;
  }
  return out;
}

/** `addrs` when it is a list of candidates (at most {@link MAX_CANDIDATES}). @throws {RangeError} otherwise. */
export function checkedAddrs(addrs: Deno.NetAddr[]): Deno.NetAddr[] {
  if (!Array.isArray(addrs) || addrs.length > MAX_CANDIDATES) {
    throw new RangeError(
      `Invalid candidates: expected an array of at most ${MAX_CANDIDATES} addresses, got ${
        Array.isArray(addrs) ? addrs.length : typeof addrs
      }`,
    );
  }
  return addrs;
}

/** True when `addr` is an IPv4 or (not IPv4-mapped) IPv6 `Deno.NetAddr` the wire format can carry. */
export function isEncodableAddr(addr: Deno.NetAddr): boolean {
  return unencodable(addr) === undefined;
}

/** The size of the address starting at `bytes[offset]`, from its family byte; 0 for an unknown family. */
function sizeAt(bytes: Uint8Array, offset: number): number {
  switch (bytes[offset]) {
    case FAMILY_IPV4:
      return IPV4_ADDR_SIZE;
    case FAMILY_IPV6:
      return IPV6_ADDR_SIZE;
    default:
      return 0;
  }
}

/**
 * Decodes a field holding exactly one address; `fail` reports an unknown
 * family, a length that does not match it, an IPv4-mapped address, or port 0.
 */
export function decodeAddr(
  bytes: Uint8Array,
  name: string,
  fail: (why: string) => never,
): Deno.NetAddr {
  const size = sizeAt(bytes, 0);
  if (size !== 0 && size !== bytes.length) {
    fail(
      `field ${name} has ${bytes.length} bytes, but an address of family ${bytes[0]} takes ${size}`,
    );
  }
  return decodeOne(bytes, 0, name, fail)[0];
}

/** Decodes a field holding 0 to {@link MAX_CANDIDATES} addresses back to back. */
export function decodeAddrs(
  bytes: Uint8Array,
  name: string,
  fail: (why: string) => never,
): Deno.NetAddr[] {
  const out: Deno.NetAddr[] = [];
  for (let offset = 0; offset < bytes.length;) {
    if (out.length === MAX_CANDIDATES) {
      fail(`field ${name} holds more than ${MAX_CANDIDATES} addresses`);
    }
    const [addr, size] = decodeOne(bytes, offset, name, fail);
    out.push(addr);
    offset += size;
  }
  return out;
}

function decodeOne(
  bytes: Uint8Array,
  offset: number,
  name: string,
  fail: (why: string) => never,
): [Deno.NetAddr, number] {
  const size = sizeAt(bytes, offset);
  if (size === 0) fail(`field ${name} holds an address of unknown family ${bytes[offset]}`);
  if (offset + size > bytes.length) fail(`field ${name} ends inside an address`);
  const ip = bytes.subarray(offset + 1, offset + size - 2);
  const port = (bytes[offset + size - 2] << 8) | bytes[offset + size - 1];
  if (port === 0) fail(`field ${name} holds an address with port 0`);
  let hostname: string;
  if (size === IPV4_ADDR_SIZE) {
    hostname = `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
  } else {
    if (isIpv4Mapped(ip)) fail(`field ${name} holds an IPv4-mapped IPv6 address`);
    hostname = formatIpv6(ip);
  }
  return [{ transport: "udp", hostname, port }, size];
}
