/** The peer layer: find the peer, punch, open a QUIC or TLS link, run the session. */
export {
  type ConnectOptions,
  connectPeer,
  type FailOptions,
  type Offered,
  type OpenedLink,
  openPeerLink,
  type PathFacts,
  type PeerSession,
} from "./connect.ts";
export { type PairedInfo, resolveServer, type ServerName } from "./find/mod.ts";
export {
  DatagramMux,
  isIpv6,
  isLanAddress,
  localCandidates,
  type NatMapping,
  planPunch,
  PROBE_VERSION,
  type PunchPlan,
  type RelayMode,
} from "./punch/mod.ts";
export type { ByteStream } from "../transfer/mod.ts";
export {
  assertKnownWords,
  codeWords,
  formatCode,
  generateWords,
  parseCode,
  type TransferCode,
} from "./code.ts";
export { formatAddr } from "../base/mod.ts";
export { dataStreamsFor, type LinkEnd, type PeerLink, type Transport } from "./link/mod.ts";
export { TRANSPORT_CHOICES, type TransportChoice } from "./_choose_transport.ts";
export {
  certificatePem,
  createPeerCertificate,
  PEER_SERVER_NAME,
  type PeerCertificate,
} from "./cert/mod.ts";
export {
  connectNode,
  dialTlsPeer,
  type DialTlsPeerOptions,
  listenTlsPeer,
  listenTlsPeerNoDelay,
  type ListenTlsPeerOptions,
  type RelayDial,
  relayTlsReceiver,
  type RelayTlsReceiverOptions,
  relayTlsSender,
  type RelayTlsSenderOptions,
  serveTls,
  TLS_LINK_VERSION,
  type TlsPeerListener,
} from "./tls/mod.ts";
