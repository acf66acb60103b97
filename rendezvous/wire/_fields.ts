/** Single rendezvous field values (protocol.ts lays them out): nameplates and checked encoders. */
import type { NatMapping, RendezvousTransport } from "./messages.ts";

/** The port `p2pft serve` listens on unless told otherwise, and clients ask without one. */
export const DEFAULT_RENDEZVOUS_PORT = 9000;

/** The highest nameplate: at most five digits. */
export const MAX_NAMEPLATE = 99_999;

/** True for a nameplate: "1".."99999", no leading zeros. */
export function isNameplate(text: string): boolean {
  return nameplateValue(text) > 0;
}

/**
 * Parses a nameplate ("1".."99999", no leading zeros) to its number.
 * @throws {TypeError} when `text` is not a valid nameplate.
 */
export function parseNameplate(text: string): number {
  const value = nameplateValue(text);
  if (value < 0) {
    throw new TypeError(
      `Invalid nameplate ${JSON.stringify(text)}: expected a number from 1 to ${MAX_NAMEPLATE}`,
    );
  }
  return value;
}

/** A nameplate's number, or -1 for anything else; one pass (every reply carries one). */
function nameplateValue(text: string): number {
  if (typeof text !== "string" || text.length < 1 || text.length > 5) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9 || (i === 0 && digit === 0)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Wire values of the `nat` and `peerNat` fields. */
export const NAT_CODES: readonly NatMapping[] = [
  "none",
  "endpoint-independent",
  "endpoint-dependent",
];
/** Wire values of the `peerTransport` field. */
export const TRANSPORT_CODES: readonly RendezvousTransport[] = ["udp", "tcp"];

/** The wire code of a NAT mapping. @throws {TypeError} for an unknown one. */
export function natCode(mapping: NatMapping): number {
  const index = NAT_CODES.indexOf(mapping);
  if (index < 0) {
    throw new TypeError(
      `Invalid NAT mapping ${JSON.stringify(mapping)}: expected ${NAT_CODES.join(", ")}`,
    );
  }
  return index + 1;
}

/** The wire code of a peer transport. @throws {TypeError} for an unknown one. */
export function transportCode(transport: RendezvousTransport): number {
  const index = TRANSPORT_CODES.indexOf(transport);
  if (index < 0) {
    throw new TypeError(
      `Invalid peer transport ${JSON.stringify(transport)}: expected ${TRANSPORT_CODES.join(", ")}`,
    );
  }
  return index + 1;
}

/** `port` when it is one (1..65535). @throws {RangeError} otherwise. */
export function checkedPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Invalid ${what} ${port}: expected an integer from 1 to 65535`);
  }
  return port;
}

/** `value` when it fits a u16. @throws {RangeError} otherwise. */
export function checkedU16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`Invalid ${what} ${value}: expected an integer from 0 to 65535`);
  }
  return value;
}

/** A byte count as a u64, big-endian (at most 2^53 - 1: a JavaScript integer). */
export function encodeU64(value: number, what: string): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Invalid ${what} ${value}: expected an integer from 0 to 2^53 - 1`);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** The u64 of `encodeU64`; a value past 2^53 - 1 reads as the nearest number (callers refuse it). */
export function decodeU64(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0));
}

export function fixed(bytes: Uint8Array, size: number, what: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== size) {
    throw new RangeError(
      `Invalid ${what}: expected ${size} bytes, got ${
        bytes instanceof Uint8Array ? bytes.length : typeof bytes
      }`,
    );
  }
  return bytes;
}
