/**
 * The receiver's fallback deadline (`reachSignal`) bounds only reaching the sender: a TLS
 * handshake still under way when it fires goes on (peer/PROTOCOL.md, "Transport choice").
 */
import assert from "node:assert/strict";
import { pipeConn } from "../../base/mod.ts";
import { certificatePem, createPeerCertificate } from "../cert/mod.ts";
import { fetchCertificate } from "./_fetch_certificate.ts";
import { withTimeout } from "../../transfer/_test_util.ts";
import { closePiped, spliceServer } from "./_test_util.ts";
import {
  dialTlsPeer,
  listenTlsPeer,
  type RelayDial,
  relayTlsReceiver,
  relayTlsSender,
} from "./tls_link.ts";

/**
 * A loopback TCP proxy to `port` that accepts at once but holds the first connection's bytes
 * (its TLS ClientHello) until `hold` resolves, as a slow sender's first handshake would.
 */
function holdingProxy(port: number, hold: (first: Uint8Array) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pipes: Promise<unknown>[] = [];
  const conns: Deno.Conn[] = [];
  let first = true;
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      const held = first;
      first = false;
      pipes.push(
        (async () => {
          const to = await Deno.connect({ hostname: "127.0.0.1", port });
          conns.push(to);
          if (held) {
            const buffer = new Uint8Array(4096);
            const n = await conn.read(buffer);
            if (n === null) return;
            await hold(buffer.subarray(0, n));
            await to.write(buffer.subarray(0, n));
          }
          await Promise.all([pipeConn(conn, to), pipeConn(to, conn)]);
        })().catch(() => {}),
      );
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await closePiped(conns, pipes);
    },
  };
}

/**
 * The deadline fires once the ClientHello arrived (TCP is up, the dial is in its handshake); the
 * handshake goes on only once its abort was seen.
 */
async function fire(reach: AbortController): Promise<void> {
  const fired = new Promise((resolve) =>
    reach.signal.addEventListener("abort", resolve, { once: true })
  );
  reach.abort(new Error("fallback deadline"));
  await fired;
}

Deno.test("LAN TLS dial: the fallback deadline firing during the handshake does not end it", async () => {
  await withTimeout(20_000, async (signal) => {
    const certificate = await createPeerCertificate();
    await using listener = await listenTlsPeer(0, {
      certificate,
      hostname: "127.0.0.1",
      expectedRemoteIp: "127.0.0.1",
      signal,
    });
    const reach = new AbortController();
    await using proxy = holdingProxy(listener.port, () => fire(reach));
    const [sender, receiver] = await Promise.all([
      listener.accept({ signal }),
      dialTlsPeer({ transport: "tcp", hostname: "127.0.0.1", port: proxy.port }, {
        peerCertificatePem: certificatePem(certificate.der),
        signal,
        reachSignal: reach.signal,
      }),
    ]);
    assert.ok(reach.signal.aborted);
    assert.equal(receiver.transport, "tcp");
    await Promise.all([sender.close({ failed: false, message: "done" }), receiver.closed]);
  });
});

Deno.test("certificate fetch: the fallback deadline firing during the handshake does not end it", async () => {
  await withTimeout(20_000, async (signal) => {
    const certificate = await createPeerCertificate();
    await using listener = await listenTlsPeer(0, { certificate, hostname: "127.0.0.1", signal });
    const reach = new AbortController();
    await using proxy = holdingProxy(listener.port, () => fire(reach));
    const der = await fetchCertificate(
      { transport: "tcp", hostname: "127.0.0.1", port: proxy.port },
      certificate.fingerprint,
      signal,
      reach.signal,
    );
    assert.ok(reach.signal.aborted);
    assert.deepEqual(der, certificate.der);
  });
});

Deno.test("LAN TLS dial: a fallback deadline that fired before TCP is up ends it", async () => {
  await withTimeout(20_000, async (signal) => {
    const certificate = await createPeerCertificate();
    await using listener = await listenTlsPeer(0, { certificate, hostname: "127.0.0.1", signal });
    const reason = new Error("fallback deadline");
    await assert.rejects(
      dialTlsPeer({ transport: "tcp", hostname: "127.0.0.1", port: listener.port }, {
        peerCertificatePem: certificatePem(certificate.der),
        signal,
        reachSignal: AbortSignal.abort(reason),
      }),
      (error) => error === reason,
    );
  });
});

Deno.test("relay TLS dial: the fallback deadline firing after relay-ready does not end the handshake", async () => {
  await withTimeout(20_000, async (signal) => {
    const certificate = await createPeerCertificate();
    await using relay = spliceServer();
    const reach = new AbortController();
    const dial = relay.dial("room");
    // Channel 0 is spliced (the relay's relay-ready): the sender is reached; the deadline fires.
    const reached: RelayDial = async (channel, within, connect) => {
      const conn = await dial(channel, within, connect);
      if (channel === 0) reach.abort(new Error("fallback deadline"));
      return conn;
    };
    const [sender, receiver] = await Promise.all([
      relayTlsSender(dial, { certificate, signal }),
      relayTlsReceiver(reached, {
        peerFingerprint: certificate.fingerprint,
        signal,
        reachSignal: reach.signal,
      }),
    ]);
    assert.ok(reach.signal.aborted);
    assert.equal(receiver.transport, "tcp");
    await Promise.all([sender.close({ failed: false, message: "done" }), receiver.closed]);
  });
});
