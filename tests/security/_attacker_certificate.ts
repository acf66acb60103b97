/**
 * The attacker's own QUIC certificate: self-signed P-256 for the name the
 * receiver expects (`peer.p2pft.invalid`, peer/PROTOCOL.md), exactly what a
 * real sender would make, but with the attacker's key.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash } from "node:crypto";

export interface AttackerCertificate {
  certPem: string;
  keyPem: string;
  der: Uint8Array;
  /** SHA-256 of `der`. */
  fingerprint: Uint8Array;
}

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export async function createAttackerCertificate(): Promise<AttackerCertificate> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01a77ac4e5",
    name: "CN=not the sender",
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "peer.p2pft.invalid" }]),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  const der = new Uint8Array(cert.rawData);
  return {
    certPem: cert.toString("pem"),
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    der,
    fingerprint: new Uint8Array(createHash("sha256").update(der).digest()),
  };
}

/** PEM text of DER certificate bytes (for `caCerts`). */
export function pemOf(der: Uint8Array): string {
  return x509.PemConverter.encode(der.slice().buffer, "CERTIFICATE");
}
