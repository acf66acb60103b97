/**
 * Rendezvous: a UDP server that pairs a sender and a receiver by nameplate,
 * tells each its NAT mapping, and relays when no direct path exists; and the
 * client that registers with it. Wire format in PROTOCOL.md.
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
export type { NatMapping, PeerInfo, RendezvousMessage, Role } from "./protocol.ts";
export { DEFAULT_RENDEZVOUS_PORT, RendezvousServer } from "./server.ts";
export type { ServeOptions, ServerStats } from "./server.ts";
export { register } from "./client.ts";
export type { DatagramPort, Pairing, RegisterOptions } from "./client.ts";
export { RELAY_HELLO_INTERVAL_MS, relayHello } from "./relay_hello.ts";
export type { RelayHelloOptions } from "./relay_hello.ts";
export { parseHostPort } from "./parse_host_port.ts";
