/**
 * The rendezvous client's channel over TCP, for networks that drop UDP: the
 * same messages, framed, on one connection to the server's main port, so
 * `register` runs unchanged on it.
 */
import {
  ConnectionLostError,
  type Datagram,
  DatagramQueue,
  ProtocolError,
  writeAll,
} from "../../base/mod.ts";
import type { DatagramPort } from "./client.ts";
import { encodeFrame, readFrame } from "../wire/mod.ts";
import { checkServer } from "./_request.ts";

export interface ConnectRendezvousTcpOptions {
  /** Aborts the connection attempt; rejects with its reason. */
  signal?: AbortSignal;
}

/** A {@link DatagramPort} over one TCP connection; close it (or `await using`) when done. */
export type TcpRendezvousPort = DatagramPort & AsyncDisposable & {
  readonly transport: "tcp";
  close(): Promise<void>;
};

/**
 * Connects to the rendezvous server's main port over TCP. Every message sent
 * goes to the server whatever its `to`; every message received appears to
 * come from `server`. The connection stays open while `register` waits to be
 * paired (the server pushes `paired` on it). Once the connection closes,
 * `receive` and `send` reject with `ConnectionLostError`.
 * @throws {TypeError} for a bad address; the connect error (e.g.
 * `Deno.errors.ConnectionRefused`) when the server does not take TCP.
 */
export async function connectRendezvousTcp(
  server: Deno.NetAddr,
  options: ConnectRendezvousTcpOptions = {},
): Promise<TcpRendezvousPort> {
  checkServer(server, "server");
  const conn = await connectTcp(server, options.signal);
  return new TcpPort(conn, server);
}

/**
 * `Deno.connect` bounded by `signal`. The signal is not handed to Deno
 * itself, which would keep it tied to the established connection.
 */
export async function connectTcp(
  server: Deno.NetAddr,
  signal: AbortSignal | undefined,
): Promise<Deno.TcpConn> {
  signal?.throwIfAborted();
  const attempt = new AbortController();
  const onAbort = () => attempt.abort(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await Deno.connect({
      hostname: server.hostname,
      port: server.port,
      transport: "tcp",
      signal: attempt.signal,
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

class TcpPort implements DatagramPort, AsyncDisposable {
  readonly transport = "tcp";
  readonly #conn: Deno.TcpConn;
  readonly #server: Deno.NetAddr;
  readonly #text: string;
  readonly #queue = new DatagramQueue(64);
  readonly #loop: Promise<void>;
  #writing: Promise<void> = Promise.resolve();
  #lost?: Error;
  #closed = false;

  constructor(conn: Deno.TcpConn, server: Deno.NetAddr) {
    this.#conn = conn;
    this.#server = { transport: "udp", hostname: server.hostname, port: server.port };
    this.#text = `rendezvous server ${server.hostname}:${server.port}`;
    this.#loop = this.#read();
  }

  send(data: Uint8Array, _to: Deno.NetAddr): Promise<void> {
    if (this.#lost) return Promise.reject(this.#lost);
    const frame = encodeFrame(data);
    // One write at a time, so frames never interleave.
    const write = this.#writing.then(() => writeAll(this.#conn, frame));
    this.#writing = write.catch(() => {});
    return write.catch((error) => {
      throw this.#lost ?? new ConnectionLostError(
        `Cannot send to ${this.#text} over TCP: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    });
  }

  receive(signal: AbortSignal): Promise<Datagram> {
    return this.#queue.take(signal);
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#fail(new ConnectionLostError(`The TCP connection to ${this.#text} was closed`));
      try {
        this.#conn.close();
      } catch {
        // the read loop already closed it
      }
    }
    await this.#loop;
    await this.#writing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #fail(error: Error): void {
    this.#lost ??= error;
    this.#queue.fail(this.#lost);
  }

  async #read(): Promise<void> {
    for (;;) {
      let data: Uint8Array | null;
      try {
        data = await readFrame(this.#conn, { peer: this.#text });
      } catch (error) {
        if (error instanceof ProtocolError || error instanceof ConnectionLostError) {
          this.#fail(error);
        } else {
          throw error;
        }
        break;
      }
      if (data === null) {
        this.#fail(new ConnectionLostError(`The ${this.#text} closed the TCP connection`));
        break;
      }
      this.#queue.push({ data, from: this.#server });
    }
    if (!this.#closed) {
      this.#closed = true;
      this.#conn.close();
    }
  }
}
