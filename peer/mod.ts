export { type ByteStream, type ConnectOptions, connectPeer, type PeerSession } from "./connect.ts";
export {
  DEFAULT_CODE_WORDS,
  formatCode,
  generateWords,
  MIN_CODE_WORDS,
  parseCode,
  type TransferCode,
} from "./code.ts";
export { formatAddr } from "./addresses.ts";
export { PROBE_VERSION } from "./probe.ts";
export { type NatMapping, planPunch, type RelayMode } from "./strategy.ts";
export {
  certificatePem,
  createPeerCertificate,
  PEER_SERVER_NAME,
  type PeerCertificate,
} from "./certificate.ts";
