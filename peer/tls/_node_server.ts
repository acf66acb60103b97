/**
 * The sender's LAN TLS server on sockets with Nagle's algorithm off (PROTOCOL.md, "Nagle-free
 * server for small transfers"): node:net accepts, `setNoDelay(true)`, node:tls serves TLS with the
 * same certificate. Deno 2.9.6 gives a connection from `Deno.listenTls` no `setNoDelay`, so there
 * each small write after the session tickets (and after the handshake's own small records) waits
 * for the receiver's delayed ACK, ~40 ms; here none does. Small transfers use it (large ones keep
 * `Deno.listenTls`, PROTOCOL.md says why).
 */
import { normalizeAddr } from "../../base/mod.ts";
import type { PeerCertificate } from "../cert/mod.ts";
import { loadTls } from "./_fetch_certificate.ts";
import type { Incoming, TlsAcceptor } from "./_listen.ts";
import { serveNodeTls } from "./_node_conn.ts";

type NodeNet = typeof import("node:net");
type NodeSocket = import("node:net").Socket;

/** Listens with node:net on `hostname:port`; TLS starts on a connection once it is admitted. */
export async function listenNoDelay(
  hostname: string,
  port: number,
  certificate: PeerCertificate,
  alpn: string,
): Promise<TlsAcceptor> {
  const loading = loadTls();
  const net: NodeNet = await import("node:net");
  const queue = new AcceptQueue<NodeSocket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => queue.put(socket));
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
      queue.fail(undefined);
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<Incoming> {
      for (let socket; (socket = await queue.take()) !== undefined;) {
        const raw = socket;
        yield {
          remote: normalizeAddr({
            transport: "tcp",
            hostname: raw.remoteAddress ?? "",
            port: raw.remotePort ?? 0,
          }),
          refuse: () => raw.destroy(),
          start() {
            raw.setNoDelay(true);
            const { conn, handshake } = serveNodeTls(tls, raw, context, alpn);
            return { conn, handshake: () => handshake };
          },
        };
      }
    },
  };
}

/** Sockets as they connect, taken one at a time; `fail` ends the takes. */
class AcceptQueue<T> {
  #items: T[] = [];
  #waiter: ((item: T | undefined) => void) | undefined;
  #done = false;
  #error: Error | undefined;

  put(item: T): void {
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter(item);
    } else this.#items.push(item);
  }

  fail(error: Error | undefined): void {
    this.#done = true;
    this.#error ??= error;
    this.#waiter?.(undefined);
    this.#waiter = undefined;
  }

  take(): Promise<T | undefined> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#error) return Promise.reject(this.#error);
    if (this.#done) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiter = resolve);
  }
}
