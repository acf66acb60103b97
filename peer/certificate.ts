import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash } from "node:crypto";
import { toHex } from "../bytes.ts";

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

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const VALIDITY_MS = 24 * 60 * 60 * 1000;

/** Makes a self-signed P-256 end-entity certificate (not a CA: rustls rejects those as leaves). */
export async function createPeerCertificate(): Promise<PeerCertificate> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const now = Date.now();
  const serial = toHex(crypto.getRandomValues(new Uint8Array(8)));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${serial}`,
    name: "CN=p2pft peer",
    notBefore: new Date(now - VALIDITY_MS),
    notAfter: new Date(now + VALIDITY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: PEER_SERVER_NAME }]),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  const der = new Uint8Array(cert.rawData);
  return {
    certPem: cert.toString("pem"),
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    der,
    fingerprint: certificateFingerprint(der),
  };
}

/** SHA-256 of a certificate's DER bytes. */
export function certificateFingerprint(der: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(der).digest());
}

/** PEM text of DER certificate bytes, for `caCerts`. */
export function certificatePem(der: Uint8Array): string {
  return x509.PemConverter.encode(der.slice().buffer, "CERTIFICATE");
}
