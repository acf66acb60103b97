/**
 * The rendezvous datagram framing, below the message types: header, field
 * tags, their lengths, and the strict field reader. Pure; see ../PROTOCOL.md.
 */
import { ProtocolError } from "../../base/mod.ts";
import {
  decodeAddr,
  decodeAddrs,
  IPV4_ADDR_SIZE,
  IPV6_ADDR_SIZE,
  MAX_ADDR_SIZE,
  MAX_CANDIDATES,
  writeAddr,
} from "./_addr.ts";
import { fixed, MAX_NAMEPLATE, NAT_CODES } from "./_fields.ts";
import { copyBytes } from "./_short_bytes.ts";
import type { NatMapping } from "./messages.ts";
import { PROTOCOL_VERSION } from "../version_mod.ts";

export { PROTOCOL_VERSION };
/** No rendezvous datagram may be longer than this. */
export const MAX_DATAGRAM_SIZE = 1200;
export const CLIENT_ID_SIZE = 16;
export const TOKEN_SIZE = 16;
export const FINGERPRINT_SIZE = 32;
export const COOKIE_SIZE = 16;
/** Length of one cookie period; a cookie lives one to two periods (see `_cookie.ts`). */
export const COOKIE_PERIOD_MS = 30_000;
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
  peerFlags: 0x17,
  successor: 0x20,
} as const;
export type FieldName = Exclude<keyof typeof TAG, "pad">;

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
  peerFlags: 1,
  successor: 32,
};

/**
 * Encoded datagrams are cut from chunks of this size, one after another:
 * a datagram costs a view, not a buffer of its own (in Deno a fresh small
 * buffer costs several times what writing its bytes does, and the server
 * sends one per reply). A chunk is freed once no datagram cut from it is
 * held; datagrams are held briefly (a send, a retransmission), never in
 * rooms.
 */
const CHUNK_SIZE = 64 * 1024;
/**
 * Room one writer may take: twice the largest datagram, more than any
 * message and its padding take.
 */
const WRITER_ROOM = 2 * MAX_DATAGRAM_SIZE;
let chunk = new Uint8Array(CHUNK_SIZE);
/** Where the next datagram starts in `chunk`. */
let used = 0;

/**
 * Writes one datagram, `header | fields` and a padding field up to `padTo`,
 * straight into the current chunk: `finish` returns the datagram's bytes as
 * a view of it. One writer at a time (they share the chunk): `encodeMessage`
 * makes one and finishes it before returning.
 */
export class DatagramWriter {
  readonly #start: number;
  #offset: number;

  constructor(type: number) {
    if (CHUNK_SIZE - used < WRITER_ROOM) {
      chunk = new Uint8Array(CHUNK_SIZE);
      used = 0;
    }
    const start = this.#start = used;
    // Byte by byte: `set` from a plain array takes the runtime's generic path, per reply.
    chunk[start] = MAGIC[0];
    chunk[start + 1] = MAGIC[1];
    chunk[start + 2] = MAGIC[2];
    chunk[start + 3] = MAGIC[3];
    chunk[start + 4] = PROTOCOL_VERSION;
    chunk[start + 5] = type;
    this.#offset = start + HEADER_SIZE;
  }

  /** The client id field. @throws {RangeError} when `bytes` is not an id. */
  clientId(bytes: Uint8Array): void {
    this.bytes(TAG.clientId, fixed(bytes, CLIENT_ID_SIZE, "client id"));
  }

  /** The cookie field, when there is a cookie. @throws {RangeError} when `bytes` is not one. */
  cookie(bytes: Uint8Array | undefined): void {
    if (bytes !== undefined) this.bytes(TAG.cookie, fixed(bytes, COOKIE_SIZE, "cookie"));
  }

  bytes(tag: number, value: Uint8Array): void {
    this.#field(tag, value.length);
    chunk.set(value, this.#offset);
    this.#offset += value.length;
  }

  byte(tag: number, value: number): void {
    this.#field(tag, 1);
    chunk[this.#offset++] = value;
  }

  u16(tag: number, value: number): void {
    this.#field(tag, 2);
    chunk[this.#offset++] = value >>> 8;
    chunk[this.#offset++] = value;
  }

  u32(tag: number, value: number): void {
    this.#field(tag, 4);
    for (let shift = 24; shift >= 0; shift -= 8) chunk[this.#offset++] = value >>> shift;
  }

  /** A field of addresses back to back (one for an address field). @throws as `writeAddr`. */
  addrs(tag: number, addrs: readonly Deno.NetAddr[]): void {
    const start = this.#offset;
    this.#field(tag, 0);
    for (const addr of addrs) this.#offset += writeAddr(chunk, this.#offset, addr);
    const length = this.#offset - start - FIELD_HEADER_SIZE;
    chunk[start + 1] = length >>> 8;
    chunk[start + 2] = length;
  }

  /**
   * The datagram, with a padding field when it is shorter than `padTo`.
   * @throws {RangeError} when `padTo` is out of range.
   */
  finish(padTo: number): Uint8Array {
    if (!Number.isInteger(padTo) || padTo < 0 || padTo > MAX_DATAGRAM_SIZE) {
      throw new RangeError(`Invalid padTo ${padTo}: expected 0 to ${MAX_DATAGRAM_SIZE}`);
    }
    const end = this.#start + padTo;
    if (this.#offset < end) {
      const padLength = Math.max(0, end - this.#offset - FIELD_HEADER_SIZE);
      this.#field(TAG.pad, padLength);
      chunk.fill(0, this.#offset, this.#offset + padLength);
      this.#offset += padLength;
    }
    used = this.#offset;
    return chunk.subarray(this.#start, this.#offset);
  }

  #field(tag: number, length: number): void {
    chunk[this.#offset] = tag;
    chunk[this.#offset + 1] = length >>> 8;
    chunk[this.#offset + 2] = length;
    this.#offset += FIELD_HEADER_SIZE;
  }
}

/** One slot per tag up to the highest known one (`successor`). */
const TAG_SLOTS = TAG.successor + 1;
/** The expected length of each known tag's value (undefined for padding and unknown tags). */
const LENGTH_OF_TAG: (number | "addr" | "addrs" | undefined)[] = Array.from(
  { length: TAG_SLOTS },
  (_, tag) => NAME_OF_TAG.has(tag) ? FIELD_LENGTH[NAME_OF_TAG.get(tag)!] : undefined,
);

/**
 * Reads one datagram's fields where they lie: the offset and length of each
 * known field, kept in reused arrays, so a request is decoded without an
 * object per field; only the values a message keeps are copied. One datagram
 * at a time: `decodeMessage` reads one and is done with it before returning.
 */
export class FieldReader {
  #data: Uint8Array = new Uint8Array(0);
  #from?: Deno.NetAddr;
  readonly #starts = new Int32Array(TAG_SLOTS);
  readonly #lengths = new Int32Array(TAG_SLOTS);

  /** Throws the ProtocolError for the datagram being read (its source in the message). */
  readonly fail = (why: string): never => {
    const from = this.#from;
    const where = from ? ` from ${from.hostname}:${from.port}` : "";
    throw new ProtocolError(`Cannot decode datagram${where}: ${why}`);
  };

  /** Starts on `data` (from `from`, for error messages); `read` then takes its fields. */
  start(data: Uint8Array, from: Deno.NetAddr | undefined): void {
    this.#data = data;
    this.#from = from;
  }

  /**
   * Reads the fields after the header, strictly: truncation, a duplicate known
   * field or a known field of the wrong length fails. Unknown tags are skipped.
   */
  read(): void {
    const data = this.#data;
    this.#starts.fill(-1);
    let offset = HEADER_SIZE;
    while (offset < data.length) {
      if (data.length - offset < FIELD_HEADER_SIZE) {
        this.fail(`truncated field header at offset ${offset}`);
      }
      const tag = data[offset];
      const length = (data[offset + 1] << 8) | data[offset + 2];
      const start = offset + FIELD_HEADER_SIZE;
      if (start + length > data.length) {
        this.fail(
          `field 0x${tag.toString(16)} at offset ${offset} claims ${length} bytes, past the end`,
        );
      }
      offset = start + length;
      const expected = tag < TAG_SLOTS ? LENGTH_OF_TAG[tag] : undefined;
      if (expected === undefined) continue; // padding or a field from a newer minor revision
      if (this.#starts[tag] >= 0) this.fail(`duplicate field ${NAME_OF_TAG.get(tag)}`);
      // An address field's structure (family bytes, count) is checked when it is decoded.
      const ok = typeof expected === "number"
        ? length === expected
        : expected === "addr"
        ? length === IPV4_ADDR_SIZE || length === IPV6_ADDR_SIZE
        : length <= MAX_ADDR_SIZE * MAX_CANDIDATES;
      if (!ok) this.fail(`field ${NAME_OF_TAG.get(tag)} has invalid length ${length}`);
      this.#starts[tag] = start;
      this.#lengths[tag] = length;
    }
  }

  has(name: FieldName): boolean {
    return this.#starts[TAG[name]] >= 0;
  }

  /** A copy of the field's value (a short one shares a slab: `copyBytes`), or undefined when absent. */
  copy(name: FieldName): Uint8Array | undefined {
    const start = this.#starts[TAG[name]];
    return start < 0 ? undefined : copyBytes(this.#data, start, start + this.#lengths[TAG[name]]);
  }

  /** A copy of the field's value; fails when absent. */
  need(name: FieldName): Uint8Array {
    return this.copy(name) ?? this.#lacks(name);
  }

  /** The first byte of a field the message needs. */
  byte(name: FieldName): number {
    const start = this.#starts[TAG[name]];
    return start < 0 ? this.#lacks(name) : this.#data[start];
  }

  /** The value of a two-byte field the message needs. */
  u16(name: FieldName): number {
    const start = this.#starts[TAG[name]];
    if (start < 0) this.#lacks(name);
    return (this.#data[start] << 8) | this.#data[start + 1];
  }

  /** The value of a four-byte field, or undefined when absent and not `required`. */
  u32(name: FieldName, required: boolean): number | undefined {
    const start = this.#starts[TAG[name]];
    if (start < 0) return required ? this.#lacks(name) : undefined;
    const data = this.#data;
    return data[start] * 2 ** 24 +
      ((data[start + 1] << 16) | (data[start + 2] << 8) | data[start + 3]);
  }

  /** The view of a field the message needs, valid until the next datagram is read. */
  view(name: FieldName): Uint8Array {
    const start = this.#starts[TAG[name]];
    if (start < 0) this.#lacks(name);
    return this.#data.subarray(start, start + this.#lengths[TAG[name]]);
  }

  addr(name: FieldName): Deno.NetAddr {
    return decodeAddr(this.view(name), name, this.fail);
  }

  addrs(name: FieldName): Deno.NetAddr[] {
    // Most peers announce no candidates: no view of an empty field.
    if (this.#starts[TAG[name]] >= 0 && this.#lengths[TAG[name]] === 0) return [];
    return decodeAddrs(this.view(name), name, this.fail);
  }

  /** The nameplate, or undefined when absent and not `required`. */
  nameplate(required: boolean): string | undefined {
    const value = this.u32("nameplate", required);
    if (value === undefined) return undefined;
    if (value < 1 || value > MAX_NAMEPLATE) this.fail(`nameplate ${value} is out of range`);
    return String(value);
  }

  port(name: FieldName): number {
    const value = this.u16(name);
    return value === 0 ? this.fail(`field ${name} holds port 0`) : value;
  }

  /** A NAT mapping field, or undefined when absent. */
  nat(name: FieldName): NatMapping | undefined {
    if (!this.has(name)) return undefined;
    const code = this.byte(name);
    return NAT_CODES[code - 1] ?? this.fail(`field ${name} holds unknown NAT mapping ${code}`);
  }

  #lacks(name: FieldName): never {
    return this.fail(`message type 0x${this.#data[5].toString(16)} lacks field ${name}`);
  }
}
