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
  type NatMapping,
  PROTOCOL_VERSION,
  type RendezvousMessage,
  type RendezvousTransport,
} from "./wire/mod.ts";
export {
  ALT_TIMEOUT_MS,
  askTcpRelay,
  type AskTcpRelayOptions,
  ClientIdChain,
  connectRendezvousTcp,
  type ConnectRendezvousTcpOptions,
  connectTcp,
  type DatagramPort,
  dialTcpRelay,
  type DialTcpRelayOptions,
  dialTcpRelayWith,
  NameplateInUseError,
  type NatObservation,
  NoSenderError,
  observeNat,
  type Pairing,
  register,
  type RegisterOptions,
  type RelayConn,
  type RelayConnect,
  relayHello,
  type RelayHelloOptions,
  type RelayVerdict,
  serverAnswers,
  type TcpRendezvousPort,
} from "./client/mod.ts";
