import { sha256 } from "@noble/hashes/sha2.js";
import { pem, selfSignedCertificate } from "./_self_signed.ts";
import { signingKey } from "./_signing_key.ts";

/** The name both peers put in the certificate and expect in the TLS handshake. */
export const PEER_SERVER_NAME = "peer.p2pft.invalid";

/** A fresh self-signed certificate for one QUIC session. */
export interface PeerCertificate {
  certPem: string;
  keyPem: string;
  /** DER bytes of the certificate (what the receiver pins). */
  der: Uint8Array;
  /** SHA-256 of `der`: the channel binding fed to the PAKE. */
  fingerprint: Uint8Array;
}

const VALIDITY_MS = 24 * 60 * 60 * 1000;

/** Makes a self-signed P-256 end-entity certificate (not a CA: rustls rejects those as leaves). */
export async function createPeerCertificate(): Promise<PeerCertificate> {
  const { keys, pkcs8 } = await signingKey();
  const now = Date.now();
  const serial = crypto.getRandomValues(new Uint8Array(9));
  serial[0] = 0x01;
  const der = await selfSignedCertificate({
    keys,
    serial,
    commonName: "p2pft peer",
    dnsName: PEER_SERVER_NAME,
    notBefore: new Date(now - VALIDITY_MS),
    notAfter: new Date(now + VALIDITY_MS),
  });
  return {
    certPem: pem("CERTIFICATE", der),
    keyPem: pem("PRIVATE KEY", pkcs8),
    der,
    fingerprint: certificateFingerprint(der),
  };
}

/** SHA-256 of a certificate's DER bytes. */
export function certificateFingerprint(der: Uint8Array): Uint8Array {
  return sha256(der);
}

/** PEM text of DER certificate bytes, for `caCerts`. */
export function certificatePem(der: Uint8Array): string {
  return pem("CERTIFICATE", der);
}
