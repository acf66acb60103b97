/**
 * Rendezvous wire format (see PROTOCOL.md): pure encode/decode, no IO.
 *
 * Every datagram is `"P2RV" | version u8 | type u8 | fields...` where each
 * field is `tag u8 | length u16 BE | value`. Readers ignore unknown tags.
 */
import { ProtocolError } from "../errors.ts";
import { ADDR_SIZE, decodeAddr, encodeAddr, encodeAddrs, MAX_CANDIDATES } from "./_addr.ts";
import type {
  ErrorMessage,
  PeerInfo,
  RegisterMessage,
  RendezvousMessage,
  Role,
} from "./messages.ts";

/** The 4 bytes every rendezvous datagram starts with: ASCII `P2RV`. */
export const RENDEZVOUS_MAGIC: Uint8Array = new Uint8Array([0x50, 0x32, 0x52, 0x56]);
/** Wire version written after the magic. */
export const PROTOCOL_VERSION = 1;
/** No rendezvous datagram may be longer than this. */
export const MAX_DATAGRAM_SIZE = 1200;
/** Highest nameplate number ("1".."99999"). */
export const MAX_NAMEPLATE = 99_999;
export const CLIENT_ID_SIZE = 16;
export const TOKEN_SIZE = 16;
export const FINGERPRINT_SIZE = 32;

const HEADER_SIZE = 6;
const FIELD_HEADER_SIZE = 3;
const MAGIC = [0x50, 0x32, 0x52, 0x56];

const TYPE_REGISTER = 0x01;
const TYPE_LEAVE = 0x02;
const TYPE_WAITING = 0x81;
const TYPE_PAIRED = 0x82;
const TYPE_ERROR = 0x83;

/** Bit 0 of the register `flags` field; other bits are reserved and ignored. */
const FLAG_POLL = 0x01;

const TAG = {
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
} as const;
type FieldName = Exclude<keyof typeof TAG, "pad">;
const NAME_OF_TAG = new Map<number, FieldName>(
  Object.entries(TAG).filter(([name]) => name !== "pad").map(([name, tag]) => [
    tag,
    name as FieldName,
  ]),
);

/**
 * Size of the biggest reply the server can send in this version (a `paired`
 * message with 8 candidates and a fingerprint). Clients pad `register` to it.
 */
export const MAX_REPLY_SIZE = HEADER_SIZE +
  FIELD_HEADER_SIZE * 8 + CLIENT_ID_SIZE + 4 + TOKEN_SIZE + ADDR_SIZE + CLIENT_ID_SIZE +
  ADDR_SIZE + ADDR_SIZE * MAX_CANDIDATES + FINGERPRINT_SIZE;

/** True when `data` starts with {@link RENDEZVOUS_MAGIC} (any version). Pure and cheap. */
export function isRendezvousDatagram(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === MAGIC[0] && data[1] === MAGIC[1] &&
    data[2] === MAGIC[2] && data[3] === MAGIC[3];
}

/**
 * Parses a nameplate ("1".."99999", no leading zeros) to its number.
 * @throws {TypeError} when `text` is not a valid nameplate.
 */
export function parseNameplate(text: string): number {
  if (typeof text !== "string" || !/^[1-9][0-9]{0,4}$/.test(text)) {
    throw new TypeError(
      `Invalid nameplate ${JSON.stringify(text)}: expected a number from 1 to ${MAX_NAMEPLATE}`,
    );
  }
  return Number(text);
}

export interface EncodeOptions {
  /** Append a padding field so the datagram is at least this long. */
  padTo?: number;
}

/**
 * Encodes one message.
 * @throws {TypeError|RangeError} when a field is invalid (wrong length, not IPv4, ...).
 */
export function encodeMessage(message: RendezvousMessage, options: EncodeOptions = {}): Uint8Array {
  const fields: [number, Uint8Array][] = [];
  let type: number;
  switch (message.type) {
    case "register":
      type = TYPE_REGISTER;
      if (message.role !== "send" && message.role !== "receive") {
        throw new TypeError(
          `Invalid role ${JSON.stringify(message.role)}: expected send or receive`,
        );
      }
      fields.push([TAG.role, Uint8Array.of(message.role === "send" ? 1 : 2)]);
      fields.push([TAG.clientId, fixed(message.clientId, CLIENT_ID_SIZE, "client id")]);
      if (message.nameplate !== undefined) {
        fields.push([TAG.nameplate, encodeNameplate(message.nameplate)]);
      } else if (message.role === "receive") {
        throw new TypeError("A receive registration needs a nameplate");
      }
      fields.push([TAG.candidates, encodeAddrs(message.candidates)]);
      if (message.fingerprint !== undefined) {
        fields.push([TAG.fingerprint, fixed(message.fingerprint, FINGERPRINT_SIZE, "fingerprint")]);
      }
      if (message.poll) fields.push([TAG.flags, Uint8Array.of(FLAG_POLL)]);
      break;
    case "leave":
      type = TYPE_LEAVE;
      fields.push([TAG.clientId, fixed(message.clientId, CLIENT_ID_SIZE, "client id")]);
      fields.push([TAG.nameplate, encodeNameplate(message.nameplate)]);
      break;
    case "waiting":
      type = TYPE_WAITING;
      fields.push([TAG.clientId, fixed(message.clientId, CLIENT_ID_SIZE, "client id")]);
      fields.push([TAG.nameplate, encodeNameplate(message.nameplate)]);
      fields.push([TAG.observed, encodeAddr(message.observed)]);
      break;
    case "paired":
      type = TYPE_PAIRED;
      fields.push([TAG.clientId, fixed(message.clientId, CLIENT_ID_SIZE, "client id")]);
      fields.push([TAG.nameplate, encodeNameplate(message.nameplate)]);
      fields.push([TAG.token, fixed(message.token, TOKEN_SIZE, "token")]);
      fields.push([TAG.observed, encodeAddr(message.observed)]);
      fields.push([TAG.peerId, fixed(message.peer.id, CLIENT_ID_SIZE, "peer id")]);
      fields.push([TAG.peerObserved, encodeAddr(message.peer.observed)]);
      fields.push([TAG.peerCandidates, encodeAddrs(message.peer.candidates)]);
      if (message.peer.fingerprint !== undefined) {
        fields.push([
          TAG.peerFingerprint,
          fixed(message.peer.fingerprint, FINGERPRINT_SIZE, "peer fingerprint"),
        ]);
      }
      break;
    case "error":
      type = TYPE_ERROR;
      fields.push([TAG.clientId, fixed(message.clientId, CLIENT_ID_SIZE, "client id")]);
      if (!Number.isInteger(message.code) || message.code < 0 || message.code > 255) {
        throw new RangeError(`Invalid error code ${message.code}: expected 0 to 255`);
      }
      fields.push([TAG.errorCode, Uint8Array.of(message.code)]);
      if (message.nameplate !== undefined) {
        fields.push([TAG.nameplate, encodeNameplate(message.nameplate)]);
      }
      break;
    default:
      throw new TypeError(
        `Unknown message type ${JSON.stringify((message as { type: unknown }).type)}`,
      );
  }
  let size = HEADER_SIZE;
  for (const [, value] of fields) size += FIELD_HEADER_SIZE + value.length;
  const padTo = options.padTo ?? 0;
  if (!Number.isInteger(padTo) || padTo < 0 || padTo > MAX_DATAGRAM_SIZE) {
    throw new RangeError(`Invalid padTo ${padTo}: expected 0 to ${MAX_DATAGRAM_SIZE}`);
  }
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

export interface DecodeOptions {
  /** Where the datagram came from, for error messages. */
  from?: Deno.NetAddr;
}

type Fields = Partial<Record<FieldName, Uint8Array>>;

/**
 * Decodes and strictly validates one datagram. Checks the size before any
 * other work; copies every byte it keeps.
 * @throws {ProtocolError} for anything malformed, too big, of another
 * version, or of an unknown message type.
 */
export function decodeMessage(data: Uint8Array, options: DecodeOptions = {}): RendezvousMessage {
  const where = options.from
    ? `Cannot decode datagram from ${options.from.hostname}:${options.from.port}`
    : "Cannot decode datagram";
  const fail = (why: string): never => {
    throw new ProtocolError(`${where}: ${why}`);
  };
  if (data.length > MAX_DATAGRAM_SIZE) {
    fail(`length ${data.length} exceeds limit of ${MAX_DATAGRAM_SIZE} bytes`);
  }
  if (data.length < HEADER_SIZE) fail(`length ${data.length} is shorter than the 6-byte header`);
  if (!isRendezvousDatagram(data)) fail("it does not start with the magic P2RV");
  if (data[4] !== PROTOCOL_VERSION) {
    fail(`unsupported protocol version ${data[4]} (expected ${PROTOCOL_VERSION})`);
  }
  const type = data[5];
  if (![TYPE_REGISTER, TYPE_LEAVE, TYPE_WAITING, TYPE_PAIRED, TYPE_ERROR].includes(type)) {
    fail(`unknown message type 0x${type.toString(16).padStart(2, "0")}`);
  }
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
    const ok = typeof expected === "number"
      ? length === expected
      : length % ADDR_SIZE === 0 && length <= ADDR_SIZE * MAX_CANDIDATES;
    if (!ok) fail(`field ${name} has invalid length ${length}`);
    fields[name] = data.slice(start, offset);
  }
  const need = (name: FieldName): Uint8Array =>
    fields[name] ?? fail(`message type 0x${type.toString(16)} lacks field ${name}`);
  const addr = (name: FieldName): Deno.NetAddr => decodeAddr(need(name), name, fail);
  const addrs = (name: FieldName): Deno.NetAddr[] => {
    const bytes = need(name);
    const out: Deno.NetAddr[] = [];
    for (let i = 0; i < bytes.length; i += ADDR_SIZE) {
      out.push(decodeAddr(bytes.subarray(i, i + ADDR_SIZE), name, fail));
    }
    return out;
  };
  const nameplate = (required: boolean): string | undefined => {
    const bytes = required ? need("nameplate") : fields.nameplate;
    if (bytes === undefined) return undefined;
    const value = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
    if (value < 1 || value > MAX_NAMEPLATE) fail(`nameplate ${value} is out of range`);
    return String(value);
  };
  const clientId = need("clientId");
  switch (type) {
    case TYPE_REGISTER: {
      const roleByte = need("role")[0];
      if (roleByte !== 1 && roleByte !== 2) fail(`invalid role ${roleByte}`);
      const role: Role = roleByte === 1 ? "send" : "receive";
      const message: RegisterMessage = {
        type: "register",
        role,
        clientId,
        candidates: addrs("candidates"),
      };
      const plate = nameplate(role === "receive");
      if (plate !== undefined) message.nameplate = plate;
      if (fields.fingerprint) message.fingerprint = fields.fingerprint;
      if (fields.flags && (fields.flags[0] & FLAG_POLL) !== 0) message.poll = true;
      return message;
    }
    case TYPE_LEAVE:
      return { type: "leave", clientId, nameplate: nameplate(true)! };
    case TYPE_WAITING:
      return { type: "waiting", clientId, nameplate: nameplate(true)!, observed: addr("observed") };
    case TYPE_PAIRED: {
      const peer: PeerInfo = {
        id: need("peerId"),
        observed: addr("peerObserved"),
        candidates: addrs("peerCandidates"),
      };
      if (fields.peerFingerprint) peer.fingerprint = fields.peerFingerprint;
      return {
        type: "paired",
        clientId,
        nameplate: nameplate(true)!,
        token: need("token"),
        observed: addr("observed"),
        peer,
      };
    }
    default: {
      const message: ErrorMessage = { type: "error", clientId, code: need("errorCode")[0] };
      const plate = nameplate(false);
      if (plate !== undefined) message.nameplate = plate;
      return message;
    }
  }
}

const FIELD_LENGTH: Record<FieldName, number | "addrs"> = {
  role: 1,
  clientId: CLIENT_ID_SIZE,
  nameplate: 4,
  candidates: "addrs",
  fingerprint: FINGERPRINT_SIZE,
  token: TOKEN_SIZE,
  observed: ADDR_SIZE,
  peerId: CLIENT_ID_SIZE,
  peerObserved: ADDR_SIZE,
  peerCandidates: "addrs",
  peerFingerprint: FINGERPRINT_SIZE,
  errorCode: 1,
  flags: 1,
};

function fixed(bytes: Uint8Array, size: number, what: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== size) {
    throw new RangeError(
      `Invalid ${what}: expected ${size} bytes, got ${
        bytes instanceof Uint8Array ? bytes.length : typeof bytes
      }`,
    );
  }
  return bytes;
}

function encodeNameplate(text: string): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, parseNameplate(text));
  return out;
}

export { isEncodableAddr, MAX_CANDIDATES } from "./_addr.ts";
export { ErrorCode } from "./messages.ts";
export type {
  ErrorMessage,
  LeaveMessage,
  PairedMessage,
  PeerInfo,
  RegisterMessage,
  RendezvousMessage,
  Role,
  WaitingMessage,
} from "./messages.ts";
