/**
 * The sender's TLS server on the connections it dialled to the TCP relay (PROTOCOL.md, "Relay"):
 * each is a node:net socket, so node:tls can serve TLS on it in place. `Deno.startTls` builds a
 * client only, and Deno 2.9.6 has no public way to make a Deno connection a node socket; before
 * this the sender spliced every relayed connection into a loopback one to its own
 * `Deno.listenTls`.
 */
import type { PeerCertificate } from "../cert/mod.ts";
import { abortable } from "../../base/mod.ts";
import { type Channel, denoChannel } from "./_channel.ts";
import { loadTls } from "./_fetch_certificate.ts";
import { NodeConn, serveNodeTls } from "./_node_conn.ts";

/**
 * A TCP connection to `relay` as a node socket, read and written through {@link NodeConn}, with
 * Nagle's algorithm off as the peers' other relayed connections have it (a PING or OPEN must not
 * wait for a delayed ACK; nor may the TLS handshake's flight, which node:tls writes in parts).
 */
export async function connectNode(
  relay: Deno.NetAddr,
  signal: AbortSignal | undefined,
): Promise<NodeConn> {
  signal?.throwIfAborted();
  const net = await import("node:net");
  const socket = net.connect({ host: relay.hostname, port: relay.port, allowHalfOpen: true });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve();
    });
    socket.once("error", reject);
  });
  await abortable(connected, signal, { onAbort: () => socket.destroy() });
  socket.setNoDelay(true);
  return new NodeConn(socket);
}

/**
 * Each certificate's secure context, made once: parsing its PEM key and certificate cost every
 * relayed connection ~1 ms of the sender's thread.
 */
const contexts = new WeakMap<PeerCertificate, import("node:tls").SecureContext>();

/** A channel served in place, and the ALPN protocol its handshake picked (null for none). */
export type ServedChannel = Channel & { alpnProtocol: string | null };

/**
 * Serves TLS with `certificate` on `conn` (whose unread bytes, the receiver's ClientHello
 * among them, go to TLS) and resolves with the channel once the handshake is done.
 * `alpn`: the one ALPN protocol to accept, if the client offers it (the relay's first streams,
 * PROTOCOL.md); a client that offers none gets none.
 *
 * `bulk`: the connection carries a data stream, so once the handshake is done Nagle's algorithm
 * is turned back on. NodeConn writes one 16 KiB record at a time, and without Nagle each went out
 * as its own TCP segment: the relay's splice and the receiver then read 16 KiB per call, and a
 * relayed GiB cost the receiver 4.0-4.2 CPU s against 3.2-3.6 with the records coalesced
 * (anchors.sh 1G 3, one run: 201.5 against 228.7 MB/s).
 */
export async function serveTls(
  conn: NodeConn,
  certificate: PeerCertificate,
  options: { what: string; signal: AbortSignal; bulk: boolean; alpn?: string },
): Promise<ServedChannel> {
  const raw = conn.release();
  const tls = await loadTls();
  let context = contexts.get(certificate);
  if (!context) {
    context = tls.createSecureContext({ cert: certificate.certPem, key: certificate.keyPem });
    contexts.set(certificate, context);
  }
  const { conn: secure, handshake } = serveNodeTls(tls, raw, context, options.alpn);
  const channel = denoChannel(secure, options.what);
  const alpnProtocol = await abortable(handshake, options.signal, { onAbort: channel.close })
    .catch((error) => {
      channel.close();
      throw error;
    });
  if (options.bulk) raw.setNoDelay(false);
  return { ...channel, alpnProtocol };
}
