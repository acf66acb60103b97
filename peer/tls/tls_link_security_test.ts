import assert from "node:assert/strict";
import { CodeMismatchError, ConnectionLostError } from "../../base/mod.ts";
import { runPakeHandshake } from "../../pake/mod.ts";
import { withTimeout } from "../../transfer/_test_util.ts";
import { certificatePem, createPeerCertificate, PEER_SERVER_NAME } from "../cert/mod.ts";
import { dialTlsPeer } from "./tls_link.ts";
import { encodePreamble } from "./_wire.ts";
import { lanPair, listenerOf, listenTlsOn, pump, serverNote } from "./_test_util.ts";

async function pake(code: { sender: string; receiver: string }, signal: AbortSignal) {
  await using pair = await lanPair(signal);
  const [senderStream, receiverStream] = await Promise.all([
    pair.sender.openStream(),
    pair.receiver.acceptStream(),
  ]);
  const common = { nameplate: "7", channelBinding: pair.certificate.fingerprint, signal };
  return await Promise.allSettled([
    runPakeHandshake(senderStream, { ...common, role: "sender", code: code.sender }),
    runPakeHandshake(receiverStream, { ...common, role: "receiver", code: code.receiver }),
  ]);
}

Deno.test("PAKE over a TLS link stream agrees on the session key", async () => {
  await withTimeout(10_000, async (signal) => {
    const [sender, receiver] = await pake({ sender: "a-b", receiver: "a-b" }, signal);
    assert.equal(sender.status, "fulfilled");
    assert.equal(receiver.status, "fulfilled");
    assert.deepEqual(sender.value.sessionKey, receiver.value.sessionKey);
  });
});

Deno.test("PAKE over a TLS link with a wrong code fails with CodeMismatchError on both sides", async () => {
  await withTimeout(10_000, async (signal) => {
    const results = await pake({ sender: "a-b", receiver: "a-c" }, signal);
    for (const result of results) {
      assert.equal(result.status, "rejected");
      assert.ok(result.reason instanceof CodeMismatchError, String(result.reason));
    }
  });
});

Deno.test("a receiver pinning the real sender's certificate refuses a MITM and sends it nothing", async () => {
  await withTimeout(10_000, async (signal) => {
    const real = await createPeerCertificate();
    const attacker = await createPeerCertificate();
    using mitm = listenTlsOn(attacker);
    const seen = (async () => {
      using conn = await mitm.accept();
      const bytes = await conn.read(new Uint8Array(1024)).catch(() => null);
      return bytes ?? 0;
    })();
    await assert.rejects(
      dialTlsPeer({ transport: "tcp", hostname: "127.0.0.1", port: mitm.addr.port }, {
        peerCertificatePem: certificatePem(real.der),
        signal,
      }),
      /TLS handshake with 127\.0\.0\.1:\d+ failed/,
    );
    assert.equal(await seen, 0, "the MITM received application bytes");
  });
});

for (const noDelay of [false, true]) {
  Deno.test(`a connection with a wrong link secret is dropped and the link stays usable${serverNote(noDelay)}`, async () => {
    await withTimeout(10_000, async (signal) => {
      await using pair = await lanPair(signal, { noDelay });
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port: pair.listener.port });
      using intruder = await Deno.startTls(tcp, {
        hostname: PEER_SERVER_NAME,
        caCerts: [certificatePem(pair.certificate.der)],
      });
      const secret = crypto.getRandomValues(new Uint8Array(32));
      await intruder.write(encodePreamble({ kind: "stream", secret, streamId: 1 }));
      // The sender closes it unread: the intruder's next read ends or fails.
      const answer = await intruder.read(new Uint8Array(16)).catch(() => null);
      assert.equal(answer, null);
      const [up, down] = await Promise.all([
        pair.receiver.openStream(),
        pair.sender.acceptStream(),
      ]);
      const result = await pump(up, down, new Uint8Array(100_000).fill(7));
      assert.equal(result.received, result.sent);
    });
  });
}

for (const noDelay of [false, true]) {
  Deno.test(`a killed receiver ends the sender's link with ConnectionLostError at once${serverNote(noDelay)}`, async () => {
    await withTimeout(20_000, async (signal) => {
      const certificate = await createPeerCertificate();
      await using listener = await listenerOf(noDelay)(0, {
        certificate,
        hostname: "127.0.0.1",
        signal,
      });
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("./_test_child.ts", import.meta.url).pathname,
          String(listener.port),
          certificatePem(certificate.der),
        ],
        stdout: "piped",
        stderr: "inherit",
        signal,
      }).spawn();
      const sender = await listener.accept({ signal });
      const accepting = assert.rejects(sender.acceptStream(), ConnectionLostError);
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      assert.equal((await reader.read()).value, "linked\n");
      child.kill("SIGKILL");
      await accepting;
      assert.equal(await sender.closed, undefined);
      await reader.cancel();
      await child.status;
    });
  });
}

for (const noDelay of [false, true]) {
  Deno.test(`the sender's listener closes connections from an IP other than the expected one${serverNote(noDelay)}`, async () => {
    await withTimeout(10_000, async (signal) => {
      const certificate = await createPeerCertificate();
      await using listener = await listenerOf(noDelay)(0, {
        certificate,
        hostname: "127.0.0.1",
        expectedRemoteIp: "127.0.0.2",
        signal,
      });
      await assert.rejects(
        dialTlsPeer({ transport: "tcp", hostname: "127.0.0.1", port: listener.port }, {
          peerCertificatePem: certificatePem(certificate.der),
          signal,
        }),
        // Deno's listener finished the TLS handshake before it was asked: the connection ends
        // after it. node:net's is closed before TLS starts: the handshake fails.
        noDelay ? /TLS handshake with 127\.0\.0\.1:\d+ failed/ : ConnectionLostError,
      );
      await assert.rejects(
        listener.accept({ timeoutMs: 1, signal }),
        /did not connect over TLS from 127\.0\.0\.2/,
      );
    });
  });
}
