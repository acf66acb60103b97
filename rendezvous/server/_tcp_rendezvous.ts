/**
 * One rendezvous client on TCP: framed requests in, framed replies out on the
 * same connection, with an idle timeout between frames and a read deadline
 * within one. The server can also push a message (a sender's `paired`).
 */
import { ConnectionLostError, normalizeAddr, ProtocolError, writeAll } from "../../base/mod.ts";
import { encodeFrame, readFrame, type RegisterMessage } from "../wire/mod.ts";
import { closeQuietly, Deadline, type TcpLimits } from "../sockets/mod.ts";

/** The server's handle on one TCP client. */
export interface TcpClient {
  /** The client's address as the server sees it (its TCP source). */
  readonly remote: Deno.NetAddr;
  /** Sends one message on the connection, after any already queued. */
  push(message: Uint8Array): void;
}

/** A sender waiting on a TCP connection: `paired` is pushed to it the moment its receiver comes. */
export interface TcpSender {
  client: TcpClient;
  message: RegisterMessage;
  source: string;
  nameplate: string;
}

export interface TcpRendezvousOptions {
  limits: TcpLimits;
  /** Answers one request (may return nothing); throws ProtocolError for junk. */
  handle: (data: Uint8Array, client: TcpClient) => Promise<Uint8Array[] | undefined>;
  /** Called after each frame that was a request (not junk): the connection is proven. */
  onRequest: () => void;
  /** Called once when the connection is done. */
  onClose: (client: TcpClient) => void;
  /** Called for a malformed frame or message; the connection is then closed. */
  onMalformed: () => void;
}

/** Serves one connection until the client closes it, goes idle, or sends junk. */
export async function serveTcpRendezvous(
  conn: Deno.TcpConn,
  options: TcpRendezvousOptions,
): Promise<void> {
  // A dual-stack listener reports an IPv4 peer as ::ffff:a.b.c.d: one host, one address.
  const { hostname, port } = normalizeAddr(conn.remoteAddr as Deno.NetAddr);
  const peer = `TCP client ${hostname}:${port}`;
  using deadline = new Deadline(conn);
  let writing = Promise.resolve();
  const client: TcpClient = {
    remote: { transport: "tcp", hostname, port },
    push(message) {
      const frame = encodeFrame(message);
      writing = writing.then(() => writeAll(conn, frame)).catch(() => closeQuietly(conn));
    },
  };
  const onStart = () => deadline.arm(options.limits.readTimeoutMs);
  try {
    for (;;) {
      deadline.arm(options.limits.idleTimeoutMs);
      const data = await readFrame(conn, { peer, onStart });
      if (data === null) break;
      const replies = await options.handle(data, client);
      options.onRequest();
      for (const reply of replies ?? []) client.push(reply);
    }
  } catch (error) {
    if (error instanceof ProtocolError) options.onMalformed();
    else if (!(error instanceof ConnectionLostError)) throw error;
  } finally {
    options.onClose(client);
    // Replies still queued go out, within the read deadline.
    deadline.arm(options.limits.readTimeoutMs);
    await writing;
  }
}
