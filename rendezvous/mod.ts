/**
 * Rendezvous: a UDP server that pairs a sender and a receiver by nameplate,
 * and the client that registers with it. Wire format in PROTOCOL.md.
 * @module
 */
export {
  CLIENT_ID_SIZE,
  decodeMessage,
  encodeMessage,
  ErrorCode,
  FINGERPRINT_SIZE,
  isRendezvousDatagram,
  MAX_CANDIDATES,
  MAX_DATAGRAM_SIZE,
  MAX_NAMEPLATE,
  MAX_REPLY_SIZE,
  parseNameplate,
  PROTOCOL_VERSION,
  RENDEZVOUS_MAGIC,
  TOKEN_SIZE,
} from "./protocol.ts";
export type { PeerInfo, RendezvousMessage, Role } from "./protocol.ts";
export { DEFAULT_RENDEZVOUS_PORT, RendezvousServer } from "./server.ts";
export type { ServeOptions, ServerStats } from "./server.ts";
export { register } from "./client.ts";
export type { DatagramPort, Pairing, RegisterOptions } from "./client.ts";
export { parseHostPort } from "./parse_host_port.ts";
