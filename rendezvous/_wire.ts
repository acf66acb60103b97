/**
 * The rendezvous datagram framing, below the message types: header, field
 * tags, their lengths, and the strict field reader. Pure; see PROTOCOL.md.
 */
import { IPV4_ADDR_SIZE, IPV6_ADDR_SIZE, MAX_ADDR_SIZE, MAX_CANDIDATES } from "./_addr.ts";

/** Wire version written after the magic. */
export const PROTOCOL_VERSION = 4;
/** No rendezvous datagram may be longer than this. */
export const MAX_DATAGRAM_SIZE = 1200;
export const CLIENT_ID_SIZE = 16;
export const TOKEN_SIZE = 16;
export const FINGERPRINT_SIZE = 32;
export const COOKIE_SIZE = 16;
export const HEADER_SIZE = 6;
export const FIELD_HEADER_SIZE = 3;
export const MAGIC = [0x50, 0x32, 0x52, 0x56];

export const TAG = {
  pad: 0x00,
  role: 0x01,
  clientId: 0x02,
  nameplate: 0x03,
  candidates: 0x04,
  fingerprint: 0x05,
  token: 0x06,
  observed: 0x07,
  peerId: 0x08,
  peerObserved: 0x09,
  peerCandidates: 0x0a,
  peerFingerprint: 0x0b,
  errorCode: 0x0c,
  flags: 0x0d,
  nat: 0x0e,
  peerNat: 0x0f,
  altPort: 0x10,
  relayPort: 0x11,
  peerTransport: 0x12,
  channel: 0x13,
  cookie: 0x14,
  relay: 0x15,
  limit: 0x16,
  successor: 0x20,
} as const;
export type FieldName = Exclude<keyof typeof TAG, "pad">;
export type Fields = Partial<Record<FieldName, Uint8Array>>;

const NAME_OF_TAG = new Map<number, FieldName>(
  Object.entries(TAG).filter(([name]) => name !== "pad").map(([name, tag]) => [
    tag,
    name as FieldName,
  ]),
);

const FIELD_LENGTH: Record<FieldName, number | "addr" | "addrs"> = {
  role: 1,
  clientId: CLIENT_ID_SIZE,
  nameplate: 4,
  candidates: "addrs",
  fingerprint: FINGERPRINT_SIZE,
  token: TOKEN_SIZE,
  observed: "addr",
  peerId: CLIENT_ID_SIZE,
  peerObserved: "addr",
  peerCandidates: "addrs",
  peerFingerprint: FINGERPRINT_SIZE,
  errorCode: 1,
  flags: 1,
  nat: 1,
  peerNat: 1,
  altPort: 2,
  relayPort: 2,
  peerTransport: 1,
  channel: 2,
  cookie: COOKIE_SIZE,
  relay: "addr",
  limit: 8,
  successor: 32,
};

/**
 * Writes `header | fields`, then a padding field when that is shorter than
 * `padTo`.
 * @throws {RangeError} when `padTo` is out of range.
 */
export function writeDatagram(
  type: number,
  fields: [number, Uint8Array][],
  padTo: number,
): Uint8Array {
  if (!Number.isInteger(padTo) || padTo < 0 || padTo > MAX_DATAGRAM_SIZE) {
    throw new RangeError(`Invalid padTo ${padTo}: expected 0 to ${MAX_DATAGRAM_SIZE}`);
  }
  let size = HEADER_SIZE;
  for (const [, value] of fields) size += FIELD_HEADER_SIZE + value.length;
  if (size < padTo) {
    const padLength = Math.max(0, padTo - size - FIELD_HEADER_SIZE);
    fields.push([TAG.pad, new Uint8Array(padLength)]);
    size += FIELD_HEADER_SIZE + padLength;
  }
  const out = new Uint8Array(size);
  out.set(MAGIC, 0);
  out[4] = PROTOCOL_VERSION;
  out[5] = type;
  let offset = HEADER_SIZE;
  for (const [tag, value] of fields) {
    out[offset] = tag;
    out[offset + 1] = value.length >>> 8;
    out[offset + 2] = value.length & 0xff;
    out.set(value, offset + FIELD_HEADER_SIZE);
    offset += FIELD_HEADER_SIZE + value.length;
  }
  return out;
}

/**
 * Reads the fields after the header, strictly: truncation, a duplicate known
 * field or a known field of the wrong length calls `fail`. Unknown tags are
 * skipped. Every kept value is a copy.
 */
export function readFields(data: Uint8Array, fail: (why: string) => never): Fields {
  const fields: Fields = {};
  let offset = HEADER_SIZE;
  while (offset < data.length) {
    if (data.length - offset < FIELD_HEADER_SIZE) {
      fail(`truncated field header at offset ${offset}`);
    }
    const tag = data[offset];
    const length = (data[offset + 1] << 8) | data[offset + 2];
    const start = offset + FIELD_HEADER_SIZE;
    if (start + length > data.length) {
      fail(`field 0x${tag.toString(16)} at offset ${offset} claims ${length} bytes, past the end`);
    }
    offset = start + length;
    const name = NAME_OF_TAG.get(tag);
    if (name === undefined) continue; // padding or a field from a newer minor revision
    if (fields[name] !== undefined) fail(`duplicate field ${name}`);
    const expected = FIELD_LENGTH[name];
    // An address field's structure (family bytes, count) is checked when it is decoded.
    const ok = typeof expected === "number"
      ? length === expected
      : expected === "addr"
      ? length === IPV4_ADDR_SIZE || length === IPV6_ADDR_SIZE
      : length <= MAX_ADDR_SIZE * MAX_CANDIDATES;
    if (!ok) fail(`field ${name} has invalid length ${length}`);
    fields[name] = data.slice(start, offset);
  }
  return fields;
}
