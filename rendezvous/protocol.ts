/**
 * Rendezvous wire format (see PROTOCOL.md): pure encode/decode, no IO.
 *
 * Every datagram is `"P2RV" | version u8 | type u8 | fields...` where each
 * field is `tag u8 | length u16 BE | value`. Readers ignore unknown tags.
 */
import { ProtocolError } from "../errors.ts";
import {
  decodeAddr,
  decodeAddrs,
  encodeAddr,
  encodeAddrs,
  MAX_ADDR_SIZE,
  MAX_CANDIDATES,
} from "./_addr.ts";
import {
  decodeU64,
  encodeNameplate,
  encodeNat,
  encodePort,
  encodeTransport,
  encodeU16,
  encodeU64,
  fixed,
  MAX_NAMEPLATE,
  NAT_CODES,
  TRANSPORT_CODES,
} from "./_fields.ts";
export { isNameplate, MAX_NAMEPLATE, parseNameplate } from "./_fields.ts";
import {
  CLIENT_ID_SIZE,
  COOKIE_SIZE,
  FIELD_HEADER_SIZE,
  FINGERPRINT_SIZE,
  HEADER_SIZE,
  MAGIC,
  MAX_DATAGRAM_SIZE,
  PROTOCOL_VERSION,
  readFields,
  TAG,
  TOKEN_SIZE,
  writeDatagram,
} from "./_wire.ts";
import type * as messages from "./messages.ts";

export {
  CLIENT_ID_SIZE,
  COOKIE_SIZE,
  FINGERPRINT_SIZE,
  MAX_DATAGRAM_SIZE,
  PROTOCOL_VERSION,
  TOKEN_SIZE,
};

/** The 4 bytes every rendezvous datagram starts with: ASCII `P2RV`. */
export const RENDEZVOUS_MAGIC: Uint8Array = new Uint8Array(MAGIC);
/** Highest nameplate number ("1".."99999"). */

const TYPE = {
  register: 0x01,
  leave: 0x02,
  observe: 0x03,
  "relay-hello": 0x04,
  "tcp-relay-hello": 0x05,
  waiting: 0x81,
  paired: 0x82,
  error: 0x83,
  observation: 0x84,
  "relay-ready": 0x85,
  "relay-waiting": 0x86,
  cookie: 0x87,
} as const;
const KNOWN_TYPES = new Set<number>(Object.values(TYPE));

/** Bit 0 of the register `flags` field; other bits are reserved and ignored. */
const FLAG_POLL = 0x01;

/**
 * Size of the biggest reply the server can send in this version (a `paired`
 * message with 8 candidates, a fingerprint, the peer's NAT mapping and transport,
 * and the owning instance's relay, every address IPv6). Clients pad every
 * request the server answers to it.
 */
export const MAX_REPLY_SIZE = HEADER_SIZE +
  FIELD_HEADER_SIZE * 11 + CLIENT_ID_SIZE + 4 + TOKEN_SIZE + MAX_ADDR_SIZE + CLIENT_ID_SIZE +
  MAX_ADDR_SIZE + MAX_ADDR_SIZE * MAX_CANDIDATES + FINGERPRINT_SIZE + 1 + 1 + MAX_ADDR_SIZE;

/** True when `data` starts with {@link RENDEZVOUS_MAGIC} (any version). Pure and cheap. */
export function isRendezvousDatagram(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === MAGIC[0] && data[1] === MAGIC[1] &&
    data[2] === MAGIC[2] && data[3] === MAGIC[3];
}

export interface EncodeOptions {
  /** Append a padding field so the datagram is at least this long. */
  padTo?: number;
}

/**
 * Encodes one message.
 * @throws {TypeError|RangeError} when a field is invalid (wrong length, not an IP address, ...).
 */
export function encodeMessage(
  message: messages.RendezvousMessage,
  options: EncodeOptions = {},
): Uint8Array {
  const fields: [number, Uint8Array][] = [];
  const type = (TYPE as Record<string, number>)[message?.type];
  if (type === undefined) {
    throw new TypeError(
      `Unknown message type ${JSON.stringify((message as { type: unknown })?.type)}`,
    );
  }
  const id = (what = "client id", bytes = message.clientId) =>
    fields.push([TAG.clientId, fixed(bytes, CLIENT_ID_SIZE, what)]);
  const cookie = (bytes: Uint8Array | undefined) => {
    if (bytes !== undefined) fields.push([TAG.cookie, fixed(bytes, COOKIE_SIZE, "cookie")]);
  };
  switch (message.type) {
    case "register":
      if (message.role !== "send" && message.role !== "receive") {
        throw new TypeError(
          `Invalid role ${JSON.stringify(message.role)}: expected send or receive`,
        );
      }
      fields.push([TAG.role, Uint8Array.of(message.role === "send" ? 1 : 2)]);
      id();
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
      if (message.nat !== undefined) fields.push([TAG.nat, encodeNat(message.nat)]);
      cookie(message.cookie);
      if (message.successor !== undefined) {
        fields.push([TAG.successor, fixed(message.successor, 32, "successor")]);
      }
      break;
    case "leave":
      id();
      fields.push([TAG.nameplate, encodeNameplate(message.nameplate)]);
      cookie(message.cookie);
      break;
    case "waiting":
      id();
      fields.push([TAG.nameplate, encodeNameplate(message.nameplate)]);
      fields.push([TAG.observed, encodeAddr(message.observed)]);
      break;
    case "paired":
      id();
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
      if (message.peer.nat !== undefined) fields.push([TAG.peerNat, encodeNat(message.peer.nat)]);
      fields.push([TAG.peerTransport, encodeTransport(message.peer.transport)]);
      if (message.relay !== undefined) fields.push([TAG.relay, encodeAddr(message.relay)]);
      break;
    case "error":
      id();
      if (!Number.isInteger(message.code) || message.code < 0 || message.code > 255) {
        throw new RangeError(`Invalid error code ${message.code}: expected 0 to 255`);
      }
      fields.push([TAG.errorCode, Uint8Array.of(message.code)]);
      if (message.nameplate !== undefined) {
        fields.push([TAG.nameplate, encodeNameplate(message.nameplate)]);
      }
      if (message.limit !== undefined) fields.push([TAG.limit, encodeU64(message.limit, "limit")]);
      break;
    case "observation":
      id();
      fields.push([TAG.observed, encodeAddr(message.observed)]);
      fields.push([TAG.altPort, encodePort(message.altPort, "altPort")]);
      if (message.relayPort !== undefined) {
        fields.push([TAG.relayPort, encodePort(message.relayPort, "relayPort")]);
      }
      break;
    case "relay-hello":
      fields.push([TAG.token, fixed(message.token, TOKEN_SIZE, "token")]);
      id();
      cookie(message.cookie);
      break;
    case "tcp-relay-hello":
      fields.push([TAG.token, fixed(message.token, TOKEN_SIZE, "token")]);
      id();
      fields.push([TAG.channel, encodeU16(message.channel, "channel")]);
      break;
    case "observe":
      id();
      cookie(message.cookie);
      break;
    case "cookie":
      id();
      fields.push([TAG.cookie, fixed(message.cookie, COOKIE_SIZE, "cookie")]);
      break;
    default: // relay-ready, relay-waiting: the client id alone
      id();
  }
  return writeDatagram(type, fields, options.padTo ?? 0);
}

export interface DecodeOptions {
  /** Where the datagram came from, for error messages. */
  from?: Deno.NetAddr;
}

/**
 * Decodes and strictly validates one datagram. Checks the size before any
 * other work; copies every byte it keeps.
 * @throws {ProtocolError} for anything malformed, too big, of another
 * version, or of an unknown message type.
 */
export function decodeMessage(
  data: Uint8Array,
  options: DecodeOptions = {},
): messages.RendezvousMessage {
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
  if (!KNOWN_TYPES.has(type)) fail(`unknown message type 0x${type.toString(16).padStart(2, "0")}`);
  const fields = readFields(data, fail);
  const need = (name: keyof typeof fields): Uint8Array =>
    fields[name] ?? fail(`message type 0x${type.toString(16)} lacks field ${name}`);
  const addr = (name: keyof typeof fields): Deno.NetAddr => decodeAddr(need(name), name, fail);
  const addrs = (name: keyof typeof fields): Deno.NetAddr[] => decodeAddrs(need(name), name, fail);
  const nameplate = (required: boolean): string | undefined => {
    const bytes = required ? need("nameplate") : fields.nameplate;
    if (bytes === undefined) return undefined;
    const value = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
    if (value < 1 || value > MAX_NAMEPLATE) fail(`nameplate ${value} is out of range`);
    return String(value);
  };
  const port = (bytes: Uint8Array, name: string): number => {
    const value = (bytes[0] << 8) | bytes[1];
    return value === 0 ? fail(`field ${name} holds port 0`) : value;
  };
  const nat = (bytes: Uint8Array | undefined, name: string): messages.NatMapping | undefined => {
    if (bytes === undefined) return undefined;
    return NAT_CODES[bytes[0] - 1] ?? fail(`field ${name} holds unknown NAT mapping ${bytes[0]}`);
  };
  const clientId = need("clientId");
  switch (type) {
    case TYPE.register: {
      const roleByte = need("role")[0];
      if (roleByte !== 1 && roleByte !== 2) fail(`invalid role ${roleByte}`);
      const role: messages.Role = roleByte === 1 ? "send" : "receive";
      const message: messages.RegisterMessage = {
        type: "register",
        role,
        clientId,
        candidates: addrs("candidates"),
      };
      const plate = nameplate(role === "receive");
      if (plate !== undefined) message.nameplate = plate;
      if (fields.fingerprint) message.fingerprint = fields.fingerprint;
      if (fields.flags && (fields.flags[0] & FLAG_POLL) !== 0) message.poll = true;
      const mapping = nat(fields.nat, "nat");
      if (mapping !== undefined) message.nat = mapping;
      if (fields.successor) message.successor = fields.successor;
      return withCookie(message, fields.cookie);
    }
    case TYPE.leave:
      return withCookie<messages.LeaveMessage>(
        { type: "leave", clientId, nameplate: nameplate(true)! },
        fields.cookie,
      );
    case TYPE.observe:
      return withCookie<messages.ObserveMessage>({ type: "observe", clientId }, fields.cookie);
    case TYPE["relay-hello"]:
      return withCookie<messages.RelayHelloMessage>(
        { type: "relay-hello", token: need("token"), clientId },
        fields.cookie,
      );
    case TYPE["tcp-relay-hello"]: {
      const channel = need("channel");
      return {
        type: "tcp-relay-hello",
        token: need("token"),
        clientId,
        channel: (channel[0] << 8) | channel[1],
      };
    }
    case TYPE.waiting:
      return { type: "waiting", clientId, nameplate: nameplate(true)!, observed: addr("observed") };
    case TYPE.paired: {
      const transportByte = need("peerTransport")[0];
      const peer: messages.PeerInfo = {
        id: need("peerId"),
        observed: addr("peerObserved"),
        candidates: addrs("peerCandidates"),
        transport: TRANSPORT_CODES[transportByte - 1] ??
          fail(`field peerTransport holds unknown transport ${transportByte}`),
      };
      if (fields.peerFingerprint) peer.fingerprint = fields.peerFingerprint;
      const mapping = nat(fields.peerNat, "peerNat");
      if (mapping !== undefined) peer.nat = mapping;
      const paired: messages.PairedMessage = {
        type: "paired",
        clientId,
        nameplate: nameplate(true)!,
        token: need("token"),
        observed: addr("observed"),
        peer,
      };
      if (fields.relay) paired.relay = addr("relay");
      return paired;
    }
    case TYPE.observation: {
      const message: messages.ObservationMessage = {
        type: "observation",
        clientId,
        observed: addr("observed"),
        altPort: port(need("altPort"), "altPort"),
      };
      if (fields.relayPort) message.relayPort = port(fields.relayPort, "relayPort");
      return message;
    }
    case TYPE["relay-ready"]:
      return { type: "relay-ready", clientId };
    case TYPE["relay-waiting"]:
      return { type: "relay-waiting", clientId };
    case TYPE.cookie:
      return { type: "cookie", clientId, cookie: need("cookie") };
    default: {
      const message: messages.ErrorMessage = {
        type: "error",
        clientId,
        code: need("errorCode")[0],
      };
      const plate = nameplate(false);
      if (plate !== undefined) message.nameplate = plate;
      if (fields.limit) {
        const limit = decodeU64(fields.limit);
        if (!Number.isSafeInteger(limit)) fail(`field limit ${limit} exceeds 2^53 - 1`);
        message.limit = limit;
      }
      return message;
    }
  }
}

/** Sets `cookie` on a request when the datagram carried one. */
function withCookie<M extends { cookie?: Uint8Array }>(
  message: M,
  cookie: Uint8Array | undefined,
): M {
  if (cookie !== undefined) message.cookie = cookie;
  return message;
}

export { isEncodableAddr, MAX_CANDIDATES } from "./_addr.ts";
export { ErrorCode } from "./messages.ts";
export type {
  CookieMessage,
  ErrorMessage,
  LeaveMessage,
  NatMapping,
  ObservationMessage,
  ObserveMessage,
  PairedMessage,
  PeerInfo,
  RegisterMessage,
  RelayHelloMessage,
  RelayReadyMessage,
  RelayWaitingMessage,
  RendezvousMessage,
  RendezvousTransport,
  Role,
  TcpRelayHelloMessage,
  WaitingMessage,
} from "./messages.ts";
