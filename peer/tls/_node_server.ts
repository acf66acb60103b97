/**
 * The sender's LAN TLS server on sockets with Nagle's algorithm off (PROTOCOL.md, "Nagle-free
 * server for small transfers"): node:net accepts, `setNoDelay(true)`, node:tls serves TLS with the
 * same certificate. Deno 2.9.6 gives a connection from `Deno.listenTls` no `setNoDelay`, so there
 * each small write after the session tickets (and after the handshake's own small records) waits
 * for the receiver's delayed ACK, ~40 ms; here none does. Small transfers use it (large ones keep
 * `Deno.listenTls`, PROTOCOL.md says why).
 */
import { normalizeAddr, Queue } from "../../base/mod.ts";
import type { PeerCertificate } from "../cert/mod.ts";
import { loadTls } from "./_fetch_certificate.ts";
import type { Incoming, TlsAcceptor } from "./_listen.ts";
import { serveNodeTls } from "./_node_conn.ts";

type NodeNet = typeof import("node:net");
type NodeSocket = import("node:net").Socket;

/** What ends the takes when the listener is closed: the iteration ends (a server error throws). */
const CLOSED = Symbol("closed");

/** Listens with node:net on `hostname:port`; TLS starts on a connection once it is admitted. */
export async function listenNoDelay(
  hostname: string,
  port: number,
  certificate: PeerCertificate,
  alpns: string[],
): Promise<TlsAcceptor> {
  const loading = loadTls();
  const net: NodeNet = await import("node:net");
  // Each connection until the consumer takes it (and admits or refuses it): none is dropped.
  const queue = new Queue<NodeSocket>(Infinity);
  const server = net.createServer({ allowHalfOpen: true }, (socket) => queue.push(socket));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: hostname, port, ipv6Only: false }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error: Error) => queue.fail(error));
  const tls = await loading;
  const context = tls.createSecureContext({
    cert: certificate.certPem,
    key: certificate.keyPem,
  });
  return {
    port: (server.address() as { port: number }).port,
    close() {
      server.close();
      queue.fail(CLOSED);
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<Incoming> {
      for (;;) {
        const raw = await queue.take().catch((error) => {
          if (error === CLOSED) return undefined;
          throw error;
        });
        if (raw === undefined) return;
        yield {
          remote: normalizeAddr({
            transport: "tcp",
            hostname: raw.remoteAddress ?? "",
            port: raw.remotePort ?? 0,
          }),
          refuse: () => raw.destroy(),
          start() {
            raw.setNoDelay(true);
            const { conn, handshake } = serveNodeTls(tls, raw, context, alpns);
            return { conn, handshake: () => handshake };
          },
        };
      }
    },
  };
}
