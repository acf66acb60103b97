/**
 * Rendezvous: a UDP (and TCP) server that pairs a sender and a receiver by
 * nameplate, tells each its NAT mapping, and relays (UDP datagrams, or TCP
 * byte streams) when no direct path exists; and the client that registers
 * with it. Wire format in PROTOCOL.md. The server itself is exported by
 * `server_mod.ts`: what `send` and `receive` load through this module does not
 * include it (its room stores, relays and their imports, ~20 ms of CPU at each
 * start).
 * @module
 */
export {
  COOKIE_PERIOD_MS,
  decodeMessage,
  DEFAULT_RENDEZVOUS_PORT,
  encodeMessage,
  isEncodableAddr,
  isNameplate,
  isRendezvousDatagram,
  MAX_REPLY_SIZE,
  PROTOCOL_VERSION,
} from "./protocol.ts";
export type { NatMapping, RendezvousMessage, RendezvousTransport } from "./protocol.ts";
export { register } from "./client.ts";
export { ClientIdChain } from "./client_ids.ts";
export type { DatagramPort, Pairing, RegisterOptions } from "./client.ts";
export { ALT_TIMEOUT_MS, type NatObservation, observeNat } from "./_observe.ts";
export { relayHello } from "./relay_hello.ts";
export { serverAnswers } from "./server_answers.ts";
export { askTcpRelay } from "./ask_tcp_relay.ts";
export type { AskTcpRelayOptions, RelayVerdict } from "./ask_tcp_relay.ts";
export type { RelayHelloOptions } from "./relay_hello.ts";
export { connectRendezvousTcp } from "./tcp_rendezvous_port.ts";
export type { ConnectRendezvousTcpOptions, TcpRendezvousPort } from "./tcp_rendezvous_port.ts";
export { dialTcpRelay } from "./dial_tcp_relay.ts";
export type { DialTcpRelayOptions } from "./dial_tcp_relay.ts";
