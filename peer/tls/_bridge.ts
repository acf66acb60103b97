/**
 * The TLS server side on connections this side dialled (the sender through
 * the TCP relay). `Deno.startTls` is client-only, and node's TLSSocket over a
 * Deno connection loses records in Deno 2.9.6; so each relayed connection is
 * spliced into a loopback connection to this side's own `Deno.listenTls`, and
 * Deno's TLS server runs on the accepted end.
 */
import { abortable, P2pftError, pipeConn } from "../../base/mod.ts";
import type { PeerCertificate } from "../cert/mod.ts";
import { type Channel, denoChannel } from "./_channel.ts";

/** A loopback TLS listener that turns dialled connections into TLS server channels. */
export class TlsBridge implements Disposable {
  readonly #listener: Deno.TlsListener;
  readonly #waiting = new Map<number, (conn: Deno.TlsConn) => void>();
  #closed = false;

  constructor(certificate: PeerCertificate) {
    try {
      this.#listener = Deno.listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: certificate.certPem,
        key: certificate.keyPem,
      });
    } catch (error) {
      throw new P2pftError(`Cannot listen for TLS on 127.0.0.1 to serve the relay`, {
        cause: error,
      });
    }
    this.#acceptLoop();
  }

  /**
   * Splices `conn` to a new loopback connection to our listener and returns
   * the listener's end of it as a channel (its handshake is still to come).
   */
  async serve(conn: Deno.Conn, what: string, signal: AbortSignal): Promise<Channel> {
    const port = (this.#listener.addr as Deno.NetAddr).port;
    const loop = await Deno.connect({ hostname: "127.0.0.1", port });
    loop.setNoDelay(true);
    (conn as Deno.TcpConn).setNoDelay?.(true);
    const localPort = (loop.localAddr as Deno.NetAddr).port;
    const accepted = new Promise<Deno.TlsConn>((resolve) => this.#waiting.set(localPort, resolve));
    splice(conn, loop);
    const onAbort = () => {
      this.#waiting.delete(localPort);
      close(loop);
      close(conn);
    };
    const tls = await abortable(accepted, signal, { onAbort });
    return denoChannel(tls, what);
  }

  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
  }

  async #acceptLoop(): Promise<void> {
    try {
      for await (const tls of this.#listener) {
        const port = (tls.remoteAddr as Deno.NetAddr).port;
        const resolve = this.#waiting.get(port);
        this.#waiting.delete(port);
        // Only our own loopback connections are expected; anything else is a stranger.
        if (resolve) resolve(tls);
        else close(tls);
      }
    } catch {
      // The listener closed.
    }
  }
}

/** Copies bytes both ways; each direction's end is passed on as a FIN; both closed once both ended. */
function splice(a: Deno.Conn, b: Deno.Conn): void {
  let ended = 0;
  const done = () => {
    if (++ended < 2) return;
    close(a);
    close(b);
  };
  pump(a, b).finally(done);
  pump(b, a).finally(done);
}

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  try {
    await pipeConn(from, to);
  } catch {
    // One side failed: drop both, so the TLS end sees the loss.
    close(from);
    close(to);
  }
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
