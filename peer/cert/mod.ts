/** The peers' self-signed certificates and their fingerprints. */
export {
  certificateFingerprint,
  certificatePem,
  createPeerCertificate,
  PEER_SERVER_NAME,
} from "./certificate.ts";
export type { PeerCertificate } from "./certificate.ts";
