/** The TLS link over TCP (LAN and relay), its wire format and its sessions. */
export { fetchCertificate, loadTls } from "./_fetch_certificate.ts";
export { listenTlsPeer, listenTlsPeerNoDelay, loadNoDelayServer } from "./_listen.ts";
export { warmTlsClient } from "./_warm_client.ts";
/** The relay sender's TLS server in place, bare (bench/tls_floor.ts measures it). */
export { connectNode, serveTls } from "./_relay_server.ts";
export type { ListenTlsPeerOptions, TlsPeerListener } from "./_listen.ts";
export {
  CERTIFICATE_PREFACE_HEADER,
  CONTROL_HEADER_LENGTH,
  decodeCertificatePrefaceHeader,
  decodeControl,
  decodeControlHeader,
  decodePreamble,
  encodeCertificatePreface,
  encodeControl,
  encodePreamble,
  TLS_LINK_VERSION,
} from "./_wire.ts";
export type { ControlMessage, Preamble } from "./_wire.ts";
export { dialTlsPeer, relayTlsReceiver, relayTlsSender } from "./tls_link.ts";
export type {
  DialTlsPeerOptions,
  RelayDial,
  RelayTlsReceiverOptions,
  RelayTlsSenderOptions,
} from "./tls_link.ts";
