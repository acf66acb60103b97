/**
 * A node socket (node:tls or node:net) read and written like the `Deno.Conn` that `denoChannel`
 * wraps, shared by the node:tls servers: the LAN listener with Nagle off (`_node_server.ts`) and
 * the sender's TLS server on the connections it dialled to the relay.
 */

type NodeSocket = import("node:net").Socket;

/**
 * Bytes received and not read yet past which the connection is dropped. Reading stays in
 * flowing mode: in Deno 2.9.6, a node TLS socket paused (by `pause()`, or by a full buffer in
 * paused mode) and resumed never reported the stream's end. The link reads every stream it
 * holds as bytes come, so only a peer that floods one this side does not read gets here.
 */
const MAX_UNREAD = 64 * 1024 * 1024;

/**
 * A node TLS socket read and written like the `Deno.Conn` that `denoChannel` wraps: `read`
 * into a buffer (null at the end), `write`, `closeWrite` (close_notify and FIN), `close`.
 */
export class NodeTlsConn {
  readonly #socket: NodeSocket;
  readonly #chunks: Uint8Array[] = [];
  #unread = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: NodeSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#unread += chunk.length;
      if (this.#unread > MAX_UNREAD) {
        this.#error ??= new Error(`more than ${MAX_UNREAD} bytes came that were not read`);
        socket.destroy();
      }
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error ??= error;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

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

  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error?: Error | null) => {
        if (error) reject(error);
        else resolve(bytes.length);
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
