/**
 * Rendezvous: a UDP (and TCP) server that pairs a sender and a receiver by
 * nameplate, tells each its NAT mapping, and relays (UDP datagrams, or TCP
 * byte streams) when no direct path exists; and the client that registers
 * with it. Wire format in PROTOCOL.md.
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
export type {
  NatMapping,
  PeerInfo,
  RendezvousMessage,
  RendezvousTransport,
  Role,
} from "./protocol.ts";
export { DEFAULT_RENDEZVOUS_PORT, RendezvousServer } from "./server.ts";
export type { ServeOptions, ServerStats } from "./server.ts";
export { register } from "./client.ts";
export type { DatagramPort, Pairing, RegisterOptions } from "./client.ts";
export { RELAY_HELLO_INTERVAL_MS, relayHello } from "./relay_hello.ts";
export type { RelayHelloOptions } from "./relay_hello.ts";
export { parseHostPort } from "./parse_host_port.ts";
export { connectRendezvousTcp } from "./tcp_rendezvous_port.ts";
export type { ConnectRendezvousTcpOptions, TcpRendezvousPort } from "./tcp_rendezvous_port.ts";
export { dialTcpRelay } from "./dial_tcp_relay.ts";
export type { DialTcpRelayOptions } from "./dial_tcp_relay.ts";
