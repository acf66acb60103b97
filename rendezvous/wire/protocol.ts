/**
 * Rendezvous wire format (see ../PROTOCOL.md): pure encode/decode, no IO.
 *
 * Every datagram is `"P2RV" | version u8 | type u8 | fields...` where each
 * field is `tag u8 | length u16 BE | value`. Readers ignore unknown tags.
 */
import { MAX_ADDR_SIZE, MAX_CANDIDATES } from "./_addr.ts";
import { checkedPort, checkedU16, decodeU64, encodeU64, fixed, parseNameplate } from "./_fields.ts";
import {
  CLIENT_ID_SIZE,
  COOKIE_SIZE,
  DatagramWriter,
  FIELD_HEADER_SIZE,
  FieldReader,
  FINGERPRINT_SIZE,
  HEADER_SIZE,
  MAGIC,
  MAX_DATAGRAM_SIZE,
  PROTOCOL_VERSION,
  TAG,
  TOKEN_SIZE,
} from "./_wire.ts";
import { decodePaired, decodeRegister, encodePaired, encodeRegister } from "./_pairing.ts";
import type * as messages from "./messages.ts";

export { DEFAULT_RENDEZVOUS_PORT } from "./_fields.ts";

/** The 4 bytes every rendezvous datagram starts with: ASCII `P2RV`. */
export const RENDEZVOUS_MAGIC: Uint8Array = new Uint8Array(MAGIC);

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
  const type = (TYPE as Record<string, number>)[message?.type];
  if (type === undefined) {
    throw new TypeError(
      `Unknown message type ${JSON.stringify((message as { type: unknown })?.type)}`,
    );
  }
  const out = new DatagramWriter(type);
  switch (message.type) {
    case "register":
      encodeRegister(out, message);
      break;
    case "leave":
      out.clientId(message.clientId);
      out.u32(TAG.nameplate, parseNameplate(message.nameplate));
      out.cookie(message.cookie);
      break;
    case "waiting":
      out.clientId(message.clientId);
      out.u32(TAG.nameplate, parseNameplate(message.nameplate));
      out.addrs(TAG.observed, [message.observed]);
      break;
    case "paired":
      encodePaired(out, message);
      break;
    case "error":
      out.clientId(message.clientId);
      if (!Number.isInteger(message.code) || message.code < 0 || message.code > 255) {
        throw new RangeError(`Invalid error code ${message.code}: expected 0 to 255`);
      }
      out.byte(TAG.errorCode, message.code);
      if (message.nameplate !== undefined) {
        out.u32(TAG.nameplate, parseNameplate(message.nameplate));
      }
      if (message.limit !== undefined) out.bytes(TAG.limit, encodeU64(message.limit, "limit"));
      break;
    case "observation":
      out.clientId(message.clientId);
      out.addrs(TAG.observed, [message.observed]);
      out.u16(TAG.altPort, checkedPort(message.altPort, "altPort"));
      if (message.relayPort !== undefined) {
        out.u16(TAG.relayPort, checkedPort(message.relayPort, "relayPort"));
      }
      break;
    case "relay-hello":
      out.bytes(TAG.token, fixed(message.token, TOKEN_SIZE, "token"));
      out.clientId(message.clientId);
      out.cookie(message.cookie);
      break;
    case "tcp-relay-hello":
      out.bytes(TAG.token, fixed(message.token, TOKEN_SIZE, "token"));
      out.clientId(message.clientId);
      out.u16(TAG.channel, checkedU16(message.channel, "channel"));
      break;
    case "observe":
      out.clientId(message.clientId);
      out.cookie(message.cookie);
      break;
    case "cookie":
      out.clientId(message.clientId);
      out.bytes(TAG.cookie, fixed(message.cookie, COOKIE_SIZE, "cookie"));
      break;
    default: // relay-ready, relay-waiting: the client id alone
      out.clientId(message.clientId);
  }
  return out.finish(options.padTo ?? 0);
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
  const fields = READER;
  fields.start(data, options.from);
  const type = checkHeader(data, fields.fail);
  fields.read();
  const clientId = fields.need("clientId");
  switch (type) {
    case TYPE.register:
      return withCookie(decodeRegister(fields, clientId), fields.copy("cookie"));
    case TYPE.leave:
      return withCookie<messages.LeaveMessage>(
        { type: "leave", clientId, nameplate: fields.nameplate(true)! },
        fields.copy("cookie"),
      );
    case TYPE.observe:
      return withCookie<messages.ObserveMessage>(
        { type: "observe", clientId },
        fields.copy("cookie"),
      );
    case TYPE["relay-hello"]:
      return withCookie<messages.RelayHelloMessage>(
        { type: "relay-hello", token: fields.need("token"), clientId },
        fields.copy("cookie"),
      );
    case TYPE["tcp-relay-hello"]:
      return {
        type: "tcp-relay-hello",
        token: fields.need("token"),
        clientId,
        channel: fields.u16("channel"),
      };
    case TYPE.waiting:
      return {
        type: "waiting",
        clientId,
        nameplate: fields.nameplate(true)!,
        observed: fields.addr("observed"),
      };
    case TYPE.paired:
      return decodePaired(fields, clientId);
    case TYPE.observation: {
      const message: messages.ObservationMessage = {
        type: "observation",
        clientId,
        observed: fields.addr("observed"),
        altPort: fields.port("altPort"),
      };
      if (fields.has("relayPort")) message.relayPort = fields.port("relayPort");
      return message;
    }
    case TYPE["relay-ready"]:
      return { type: "relay-ready", clientId };
    case TYPE["relay-waiting"]:
      return { type: "relay-waiting", clientId };
    case TYPE.cookie:
      return { type: "cookie", clientId, cookie: fields.need("cookie") };
    default: {
      const message: messages.ErrorMessage = {
        type: "error",
        clientId,
        code: fields.byte("errorCode"),
      };
      const plate = fields.nameplate(false);
      if (plate !== undefined) message.nameplate = plate;
      if (fields.has("limit")) {
        const limit = decodeU64(fields.view("limit"));
        if (!Number.isSafeInteger(limit)) fields.fail(`field limit ${limit} exceeds 2^53 - 1`);
        message.limit = limit;
      }
      return message;
    }
  }
}

/** The message type of a datagram of the right size, magic and version. */
function checkHeader(data: Uint8Array, fail: (why: string) => never): number {
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
  return type;
}

/** The one reader `decodeMessage` reuses: it reads one datagram and is done before it returns. */
const READER = new FieldReader();

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
