/** The rendezvous wire format (../PROTOCOL.md): messages, their encoding, TCP framing, cookies. */
export { isEncodableAddr, MAX_CANDIDATES } from "./_addr.ts";
export { COOKIE_SECRET_SIZE, CookieMinter } from "./_cookie.ts";
export { isNameplate, MAX_NAMEPLATE, parseNameplate } from "./_fields.ts";
export { ShortHmac } from "./_hmac.ts";
export { shortFromHex } from "./_short_bytes.ts";
export { encodeFrame, readFrame } from "./_tcp_frame.ts";
export {
  CLIENT_ID_SIZE,
  COOKIE_PERIOD_MS,
  COOKIE_SIZE,
  FINGERPRINT_SIZE,
  MAX_DATAGRAM_SIZE,
  PROTOCOL_VERSION,
  TOKEN_SIZE,
} from "./_wire.ts";
export { ErrorCode } from "./messages.ts";
export type {
  ErrorMessage,
  LeaveMessage,
  NatMapping,
  ObservationMessage,
  PairedMessage,
  PeerInfo,
  RegisterMessage,
  RelayHelloMessage,
  RendezvousMessage,
  RendezvousTransport,
  Role,
} from "./messages.ts";
export {
  decodeMessage,
  DEFAULT_RENDEZVOUS_PORT,
  encodeMessage,
  isRendezvousDatagram,
  MAX_REPLY_SIZE,
} from "./protocol.ts";
