/**
 * Rendezvous: a UDP server that pairs a sender and a receiver by nameplate,
 * tells each its NAT mapping, and relays when no direct path exists; and the
 * client that registers with it. Wire format in PROTOCOL.md.
 * @module
 */
export {
  decodeMessage,
  encodeMessage,
  isNameplate,
  isRendezvousDatagram,
  MAX_REPLY_SIZE,
  PROTOCOL_VERSION,
} from "./protocol.ts";
export type { NatMapping, RendezvousMessage } from "./protocol.ts";
export { DEFAULT_RENDEZVOUS_PORT, RendezvousServer } from "./server.ts";
export type { ServeOptions } from "./server.ts";
export { register } from "./client.ts";
export type { Pairing, RegisterOptions } from "./client.ts";
export { relayHello } from "./relay_hello.ts";
export type { RelayHelloOptions } from "./relay_hello.ts";
