export {
  type ConnectOptions,
  connectPeer,
  type FailOptions,
  type OpenedLink,
  openPeerLink,
  type PairedInfo,
  type PathFacts,
  type PeerSession,
} from "./connect.ts";
export { resolveServer } from "./_find_peer.ts";
export { DatagramMux } from "./datagram_mux.ts";
export { isIpv6, isLanAddress, localCandidates } from "./addresses.ts";
export { planPunch, type PunchPlan } from "./strategy.ts";
export type { ByteStream } from "../transfer/mod.ts";
export {
  assertKnownWords,
  codeWords,
  formatCode,
  generateWords,
  parseCode,
  type TransferCode,
} from "./code.ts";
export { formatAddr } from "./addresses.ts";
export { dataStreamsFor } from "./data_streams.ts";
export type { LinkEnd, PeerLink, Transport } from "./link.ts";
export { PROBE_VERSION } from "./probe.ts";
export { TRANSPORT_CHOICES, type TransportChoice } from "./_choose_transport.ts";
export { type NatMapping, type RelayMode } from "./strategy.ts";
export {
  certificatePem,
  createPeerCertificate,
  PEER_SERVER_NAME,
  type PeerCertificate,
} from "./certificate.ts";
export {
  dialTlsPeer,
  type DialTlsPeerOptions,
  listenTlsPeer,
  type ListenTlsPeerOptions,
  type RelayDial,
  relayTlsReceiver,
  type RelayTlsReceiverOptions,
  relayTlsSender,
  type RelayTlsSenderOptions,
  type TlsPeerListener,
} from "./tls_link.ts";
export { TLS_LINK_VERSION } from "./_tls_wire.ts";
