import "reflect-metadata";
import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import { sha256 } from "@noble/hashes/sha2.js";
import { CodeMismatchError } from "../base/mod.ts";
import { bounded, readAll } from "./_test_pipes.ts";
import { runPakeHandshake } from "./handshake.ts";

const SERVER_NAME = "pake-test.p2pft.invalid";
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A self-signed end-entity certificate, as the sender makes one per session. */
async function selfSigned(): Promise<{ certPem: string; keyPem: string; fingerprint: Uint8Array }> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=pake test",
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: SERVER_NAME }]),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    certPem: cert.toString("pem"),
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    fingerprint: sha256(new Uint8Array(cert.rawData)),
  };
}

/**
 * Runs the handshake over a real QUIC bidirectional stream on 127.0.0.1,
 * receiver = client, sender = server, then has the sender write `payload` at
 * once on the same stream and returns what the receiver reads after its handshake.
 */
async function overQuic(receiverCode: string, payload: Uint8Array) {
  const certificate = await selfSigned();
  const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const listener = endpoint.listen({
    alpnProtocols: ["pake-test"],
    cert: certificate.certPem,
    key: certificate.keyPem,
  });
  // The server must accept while the client connects: the TLS handshake needs both.
  const accepted = listener.accept();
  let client: Deno.QuicConn;
  try {
    client = await Deno.connectQuic({
      hostname: "127.0.0.1",
      port: endpoint.addr.port,
      serverName: SERVER_NAME,
      alpnProtocols: ["pake-test"],
      caCerts: [certificate.certPem],
    });
  } catch (error) {
    accepted.catch(() => {});
    endpoint.close();
    throw error;
  }
  const server = await accepted;
  const incoming = server.incomingBidirectionalStreams.getReader();
  try {
    const signal = AbortSignal.timeout(5_000);
    const receiverStream = await client.createBidirectionalStream();
    const receiver = runPakeHandshake(receiverStream, {
      role: "receiver",
      code: receiverCode,
      nameplate: "7",
      channelBinding: certificate.fingerprint, // pinned: the certificate the client trusted
      signal,
    });
    // A QUIC stream reaches the server with its first bytes: the receiver's SHARE.
    const senderStream = (await incoming.read()).value!;
    const sender = runPakeHandshake(senderStream, {
      role: "sender",
      code: "lantern-crossword",
      nameplate: "7",
      channelBinding: certificate.fingerprint, // its own certificate
      signal,
    }).then(async (result) => {
      const writer = senderStream.writable.getWriter();
      await writer.write(payload);
      await writer.close();
      return result;
    });
    const outcomes = await bounded(Promise.allSettled([receiver, sender]));
    let received: Uint8Array | undefined;
    if (outcomes[0].status === "fulfilled") {
      // Read the stream object itself: the driver must have left the payload in it.
      received = await bounded(readAll(receiverStream.readable));
      await receiverStream.writable.close();
    }
    return { outcomes, received };
  } finally {
    incoming.releaseLock();
    client.close({ closeCode: 0, reason: "test done" });
    server.close({ closeCode: 0, reason: "test done" });
    await Promise.allSettled([client.closed, server.closed]);
    listener.stop();
    endpoint.close();
  }
}

Deno.test("runPakeHandshake over QUIC agrees on a key and leaves the next bytes in the stream", async () => {
  const payload = new TextEncoder().encode("manifest right after CONFIRM ".repeat(40));
  const { outcomes, received } = await overQuic("lantern-crossword", payload);
  const [receiver, sender] = outcomes;
  assert.equal(receiver.status, "fulfilled", String((receiver as PromiseRejectedResult).reason));
  assert.equal(sender.status, "fulfilled", String((sender as PromiseRejectedResult).reason));
  assert.deepEqual(receiver.value.sessionKey, sender.value.sessionKey);
  assert.deepEqual(received, payload);
});

Deno.test("runPakeHandshake over QUIC fails on both sides with a wrong code", async () => {
  const { outcomes } = await overQuic("lantern-crosswalk", new Uint8Array(0));
  for (const outcome of outcomes) {
    assert.equal(outcome.status, "rejected");
    assert.ok((outcome as PromiseRejectedResult).reason instanceof CodeMismatchError);
  }
});
