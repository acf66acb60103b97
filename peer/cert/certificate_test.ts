import assert from "node:assert/strict";
import { certificatePem, createPeerCertificate, PEER_SERVER_NAME } from "./certificate.ts";
import { selfSignedCertificate } from "./_self_signed.ts";
import { signingKey } from "./_signing_key.ts";

Deno.test("a peer certificate passes a TLS handshake that pins it for PEER_SERVER_NAME", async () => {
  // Several, so signatures whose r or s has its high bit set are among them.
  for (let round = 0; round < 4; round++) {
    const certificate = await createPeerCertificate();
    using listener = listenTlsOn(certificate);
    const accepted = listener.accept().then(async (conn) => {
      await conn.handshake();
      return conn;
    });
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    using client = await Deno.startTls(tcp, {
      hostname: PEER_SERVER_NAME,
      caCerts: [certificatePem(certificate.der)],
    });
    await client.handshake();
    using _server = await accepted;
    assert.equal(certificate.fingerprint.length, 32);
  }
});

Deno.test("a peer certificate is refused under any other name", async () => {
  const certificate = await createPeerCertificate();
  using listener = listenTlsOn(certificate);
  const accepted = listener.accept().then((conn) => conn.handshake().finally(() => conn.close()));
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  using client = await Deno.startTls(tcp, {
    hostname: "other.invalid",
    caCerts: [certificate.certPem],
  });
  await assert.rejects(client.handshake());
  await accepted.catch(() => {});
});

Deno.test("selfSignedCertificate rejects a serial number that would not be a positive minimal INTEGER", async () => {
  const keys = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  );
  for (const serial of [new Uint8Array([0x80, 1]), new Uint8Array([0, 1]), new Uint8Array(0)]) {
    await assert.rejects(
      selfSignedCertificate({
        keys,
        serial,
        commonName: "x",
        dnsName: "x.invalid",
        notBefore: new Date(),
        notAfter: new Date(),
      }),
      RangeError,
    );
  }
});

Deno.test("signingKey's PKCS#8 carries the public key that verifies its signatures", async () => {
  const { keys, pkcs8 } = await signingKey();
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const imported = await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, true, ["sign"]);
  const message = new TextEncoder().encode("p2pft");
  const signature = await crypto.subtle.sign(algorithm, imported, message);
  assert.ok(await crypto.subtle.verify(algorithm, keys.publicKey, signature, message));
  // The public point inside the PKCS#8 (its last 65 bytes) is the one WebCrypto derived.
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  assert.deepEqual(pkcs8.subarray(-65), spki.subarray(-65));
});

/** A plain TLS listener on 127.0.0.1 port 0 that presents `certificate`. */
function listenTlsOn(certificate: { certPem: string; keyPem: string }): Deno.TlsListener {
  return Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: certificate.certPem,
    key: certificate.keyPem,
  });
}
