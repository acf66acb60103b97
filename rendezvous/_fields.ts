/** Single rendezvous field values (protocol.ts lays them out): nameplates and checked encoders. */
import type { NatMapping, RendezvousTransport } from "./messages.ts";

/** The highest nameplate: at most five digits. */
export const MAX_NAMEPLATE = 99_999;

/** True for a nameplate: "1".."99999", no leading zeros. */
export function isNameplate(text: string): boolean {
  return typeof text === "string" && /^[1-9][0-9]{0,4}$/.test(text);
}

/**
 * Parses a nameplate ("1".."99999", no leading zeros) to its number.
 * @throws {TypeError} when `text` is not a valid nameplate.
 */
export function parseNameplate(text: string): number {
  if (!isNameplate(text)) {
    throw new TypeError(
      `Invalid nameplate ${JSON.stringify(text)}: expected a number from 1 to ${MAX_NAMEPLATE}`,
    );
  }
  return Number(text);
}

/** Wire values of the `nat` and `peerNat` fields. */
export const NAT_CODES: readonly NatMapping[] = [
  "none",
  "endpoint-independent",
  "endpoint-dependent",
];
/** Wire values of the `peerTransport` field. */
export const TRANSPORT_CODES: readonly RendezvousTransport[] = ["udp", "tcp"];

export function encodeNat(mapping: NatMapping): Uint8Array {
  const index = NAT_CODES.indexOf(mapping);
  if (index < 0) {
    throw new TypeError(
      `Invalid NAT mapping ${JSON.stringify(mapping)}: expected ${NAT_CODES.join(", ")}`,
    );
  }
  return Uint8Array.of(index + 1);
}

export function encodeTransport(transport: RendezvousTransport): Uint8Array {
  const index = TRANSPORT_CODES.indexOf(transport);
  if (index < 0) {
    throw new TypeError(
      `Invalid peer transport ${JSON.stringify(transport)}: expected ${TRANSPORT_CODES.join(", ")}`,
    );
  }
  return Uint8Array.of(index + 1);
}

export function encodePort(port: number, what: string): Uint8Array {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Invalid ${what} ${port}: expected an integer from 1 to 65535`);
  }
  return encodeU16(port, what);
}

export function encodeU16(value: number, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`Invalid ${what} ${value}: expected an integer from 0 to 65535`);
  }
  return Uint8Array.of(value >>> 8, value & 0xff);
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

export function encodeNameplate(text: string): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, parseNameplate(text));
  return out;
}
