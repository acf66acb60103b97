/**
 * The peer side of the TCP relay: one TCP connection per channel, one framed
 * `tcp-relay-hello`, one framed `relay-ready`, then a raw byte pipe to the
 * other peer's connection of the same channel.
 */
import {
  ConnectionLostError,
  equalBytes,
  ProtocolError,
  RendezvousError,
  writeAll,
} from "../../base/mod.ts";
import { describeError } from "./_describe_error.ts";
import { checkServer } from "./_request.ts";
import {
  CLIENT_ID_SIZE,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  readFrame,
  TOKEN_SIZE,
} from "../wire/mod.ts";
import { connectTcp } from "./tcp_rendezvous_port.ts";

/** What the relay's hello and answer need of a connection: Deno's, or a caller's adapter. */
export type RelayConn = Pick<Deno.Conn, "read" | "write" | "close">;

/** Opens a TCP connection to `relay`; rejects with `signal.reason` when it aborts. */
export type RelayConnect<C extends RelayConn> = (
  relay: Deno.NetAddr,
  signal: AbortSignal | undefined,
) => Promise<C>;

export interface DialTcpRelayOptions {
  /** `Pairing.token`. */
  token: Uint8Array;
  /** `Pairing.selfId`. */
  selfId: Uint8Array;
  /** Which connection of the pair this is, 0..65535; both peers use the same number. */
  channel: number;
  /** Bounds the connect and the wait for the other peer; rejects with its reason. */
  signal?: AbortSignal;
}

/**
 * Connects to the TCP relay (the server's relay port number, over TCP), says
 * hello for `channel`, and resolves once the relay answered `relay-ready`:
 * the other peer said hello for the same channel, and from now on the
 * returned connection is spliced byte for byte to the other peer's.
 * Nothing past `relay-ready` is read. The relay waits 10 s (by default) for
 * the other peer; the caller's signal bounds the whole.
 * @throws {TypeError|RangeError} for bad options.
 * @throws {RendezvousError} when the relay refuses (unknown pairing, full, ended, too many channels).
 * @throws {ConnectionLostError} when the relay closes first (the other peer
 * did not come in time, or the relay stopped).
 * @throws {ProtocolError} when the relay answers with something else.
 * Rejects with `signal.reason` when `signal` aborts (the connection is closed).
 */
export function dialTcpRelay(
  relay: Deno.NetAddr,
  options: DialTcpRelayOptions,
): Promise<Deno.TcpConn> {
  return dialTcpRelayWith(relay, { ...options, connect: connectTcp });
}

/**
 * {@link dialTcpRelay} on a connection that `connect` opens: the sender's is a node socket, on
 * which node:tls serves TLS in place (peer/tls/PROTOCOL.md, "Relay").
 */
export async function dialTcpRelayWith<C extends RelayConn>(
  relay: Deno.NetAddr,
  options: DialTcpRelayOptions & { connect: RelayConnect<C> },
): Promise<C> {
  validate(relay, options);
  const { token, selfId, channel, signal } = options;
  const text = `${relay.hostname}:${relay.port}`;
  const conn = await options.connect(relay, signal);
  const onAbort = () => conn.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await writeAll(
      conn,
      encodeFrame(encodeMessage({ type: "tcp-relay-hello", token, clientId: selfId, channel })),
    );
    const frame = await readFrame(conn, { peer: `relay ${text}` });
    if (frame === null) {
      throw new ConnectionLostError(
        `The relay on ${text} closed channel ${channel} before relay-ready (the other peer did not connect in time, or the relay stopped)`,
      );
    }
    const reply = decodeMessage(frame);
    if (reply.type === "error" && equalBytes(reply.clientId, selfId)) {
      throw new RendezvousError(describeError(reply, text));
    }
    if (reply.type !== "relay-ready" || !equalBytes(reply.clientId, selfId)) {
      throw new ProtocolError(
        `The relay on ${text} answered ${reply.type} instead of relay-ready for this peer`,
      );
    }
    signal?.removeEventListener("abort", onAbort);
    signal?.throwIfAborted();
    return conn;
  } catch (error) {
    signal?.removeEventListener("abort", onAbort);
    try {
      conn.close();
    } catch {
      // closed by the abort
    }
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}

function validate(relay: Deno.NetAddr, options: DialTcpRelayOptions): void {
  checkServer(relay, "relay");
  if (options === null || typeof options !== "object") {
    throw new TypeError("dialTcpRelay() needs an options object");
  }
  for (const [name, size] of [["token", TOKEN_SIZE], ["selfId", CLIENT_ID_SIZE]] as const) {
    const value = options[name];
    if (!(value instanceof Uint8Array) || value.length !== size) {
      throw new RangeError(`Invalid ${name}: expected ${size} bytes`);
    }
  }
  const channel = options.channel;
  if (!Number.isInteger(channel) || channel < 0 || channel > 65535) {
    throw new RangeError(`Invalid channel ${channel}: expected an integer from 0 to 65535`);
  }
}
