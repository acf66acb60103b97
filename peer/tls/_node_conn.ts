/**
 * A node socket (node:tls or node:net) read and written like the `Deno.Conn` that `denoChannel`
 * wraps, shared by the node:tls servers: the LAN listener with Nagle off (`_node_server.ts`) and
 * the sender's TLS server on the connections it dialled to the relay.
 */

type NodeSocket = import("node:net").Socket;
type NodeTls = typeof import("node:tls");

/**
 * Bytes received and not read yet past which the connection is dropped. Reading stays in
 * flowing mode: in Deno 2.9.6, a node TLS socket paused (by `pause()`, or by a full buffer in
 * paused mode) and resumed never reported the stream's end. The link reads every stream it
 * holds as bytes come, so only a peer that floods one this side does not read gets here.
 */
const MAX_UNREAD = 64 * 1024 * 1024;

/** The most one socket write takes: a TLS record's plaintext (see `write`). */
const WRITE_PIECE = 16 * 1024;

/**
 * A node socket read and written like the `Deno.Conn` that `denoChannel` wraps: `read` into a
 * buffer (null at the end), `write`, `closeWrite` (on TLS: close_notify and FIN), `close`.
 */
export class NodeConn {
  readonly #socket: NodeSocket;
  readonly #chunks: Uint8Array[] = [];
  #unread = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: NodeSocket) {
    this.#socket = socket;
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onEnd);
  }

  /**
   * Hands the socket back, paused, with the bytes received and not read put back in front
   * (`unshift`), for a TLS server to start on it; this adapter is not used after.
   */
  release(): NodeSocket {
    const socket = this.#socket;
    socket.pause();
    socket.off("data", this.#onData);
    socket.off("end", this.#onEnd);
    socket.off("error", this.#onError);
    socket.off("close", this.#onEnd);
    for (const chunk of this.#chunks.reverse()) socket.unshift(chunk);
    this.#chunks.length = 0;
    return socket;
  }

  readonly #onData = (chunk: Uint8Array) => {
    this.#chunks.push(chunk);
    this.#unread += chunk.length;
    if (this.#unread > MAX_UNREAD) {
      this.#error ??= new Error(`more than ${MAX_UNREAD} bytes came that were not read`);
      this.#socket.destroy();
    }
    this.#notify();
  };

  readonly #onEnd = () => {
    this.#ended = true;
    this.#notify();
  };

  readonly #onError = (error: Error) => {
    this.#error ??= error;
    this.#notify();
  };

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    let filled = 0;
    while (filled < buffer.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const n = Math.min(chunk.length, buffer.length - filled);
      buffer.set(chunk.subarray(0, n), filled);
      filled += n;
      if (n === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(n);
    }
    this.#unread -= filled;
    return filled;
  }

  /**
   * Writes `bytes` a TLS record's worth (16 KiB) at a time, each once the socket took the one
   * before. Given 256 KiB at once while the peer read slowly, Deno 2.9.6's node TLS socket spent
   * 4-9 CPU s per GiB in copies and page faults of its own (perf: memmove), against 1.3-1.5 with
   * one record per write (bench/relay_hops.ts, the relay's sender, same runs).
   */
  async write(bytes: Uint8Array): Promise<number> {
    for (let at = 0; at < bytes.length; at += WRITE_PIECE) {
      await this.#writePiece(bytes.subarray(at, at + WRITE_PIECE));
    }
    return bytes.length;
  }

  #writePiece(piece: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(piece, (error?: Error | null) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }

  closeWrite(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(() => resolve()));
  }

  close(): void {
    this.#socket.destroy();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * Serves TLS with `context` on `socket` in place (node:tls), as both node:tls servers do:
 * `conn` reads and writes the plaintext; `handshake` resolves with the ALPN protocol picked
 * (null without one) and rejects if the socket fails or closes first. `alpn`: the protocol, or
 * protocols in the order this server prefers them, it accepts if the client offers them.
 */
export function serveNodeTls(
  tls: NodeTls,
  socket: NodeSocket,
  context: import("node:tls").SecureContext,
  alpn?: string | string[],
): { conn: NodeConn; handshake: Promise<string | null> } {
  const secure = new tls.TLSSocket(
    socket,
    {
      isServer: true,
      secureContext: context,
      allowHalfOpen: true,
      ...(alpn === undefined ? {} : { ALPNProtocols: typeof alpn === "string" ? [alpn] : alpn }),
    } as ConstructorParameters<NodeTls["TLSSocket"]>[1],
  );
  const conn = new NodeConn(secure);
  const handshake = new Promise<string | null>((resolve, reject) => {
    secure.once("secure", () => resolve(secure.alpnProtocol || null));
    secure.once("error", reject);
    secure.once("close", () => reject(new Error("closed during the TLS handshake")));
  });
  return { conn, handshake };
}
