/**
 * Why a link through the TCP relay went away, asked of that relay: one
 * `tcp-relay-hello` with the pairing's token on channel 65535. A relay that
 * ended the session (a cap, or idle) answers `error` 14 (with the cap) or 11;
 * a relay that is gone does not accept the connection; otherwise the relay
 * is up and the session with it: the peer itself went away.
 */
import { equalBytes, withinDeadline, writeAll } from "../../base/mod.ts";
import { describeError } from "./_describe_error.ts";
import { decodeMessage, encodeFrame, encodeMessage, ErrorCode, readFrame } from "../wire/mod.ts";
import { connectTcp } from "./tcp_rendezvous_port.ts";

/** The channel a peer asks on: no link opens that many connections (../PROTOCOL.md, "TCP relay"). */
export const ASK_CHANNEL = 65535;

/** What the relay said: it is gone, it ended the session (and why), or both are up. */
export type RelayVerdict = { kind: "stopped" } | { kind: "ended"; message: string } | {
  kind: "up";
};

export interface AskTcpRelayOptions {
  /** `Pairing.token`. */
  token: Uint8Array;
  /** `Pairing.selfId`. */
  selfId: Uint8Array;
  /** How long to wait for the connection and for an answer. */
  timeoutMs: number;
}

/** Asks the TCP relay at `relay` about this pairing's session (see the module comment). */
export async function askTcpRelay(
  relay: Deno.NetAddr,
  options: AskTcpRelayOptions,
): Promise<RelayVerdict> {
  let conn: Deno.TcpConn;
  try {
    conn = await connectTcp(relay, AbortSignal.timeout(options.timeoutMs));
  } catch {
    return { kind: "stopped" };
  }
  const { token, selfId } = options;
  const text = `${relay.hostname}:${relay.port}`;
  try {
    const hello = encodeMessage({
      type: "tcp-relay-hello",
      token,
      clientId: selfId,
      channel: ASK_CHANNEL,
    });
    await writeAll(conn, encodeFrame(hello));
    // No answer in time: the relay holds our hello for the other peer, so the session is alive.
    const frame = await withinDeadline(
      readFrame(conn, { peer: `relay ${text}` }),
      options.timeoutMs,
    );
    if (frame === undefined || frame === null) return { kind: "up" };
    const reply = decodeMessage(frame);
    const ended = reply.type === "error" && equalBytes(reply.clientId, selfId) &&
      (reply.code === ErrorCode.relayCapped || reply.code === ErrorCode.relayEnded);
    return ended ? { kind: "ended", message: describeError(reply, text) } : { kind: "up" };
  } catch {
    // A reset or junk from a relay that accepted the connection: it runs; nothing more is known.
    return { kind: "up" };
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by the reader's failure.
    }
  }
}
