/**
 * What the peer layer needs from a transport once a path is chosen: streams in
 * both directions and a way to end with a reason the other side can show.
 * QUIC on the punched port (`../quic/quic.ts`) and TLS over TCP (`../tls/tls_link.ts`) both
 * implement it, so the PAKE and the transfer run unchanged on either.
 */
import type { ByteStream, OpenStreamOptions } from "../../transfer/mod.ts";

export type { OpenStreamOptions };

export type Transport = "quic" | "tcp";

/**
 * Liveness, one home for every transport: each side sends a keep-alive this
 * often, and a link that heard nothing for `LINK_IDLE_TIMEOUT_MS` is lost.
 * A peer killed or frozen is noticed within about 4 s, inside 6 s even on a
 * busy machine; more than two keep-alives fit in the window, so one lost
 * datagram does not end a healthy link.
 */
export const LINK_KEEP_ALIVE_MS = 1_500;
export const LINK_IDLE_TIMEOUT_MS = 4_000;

/** The words for a link that went silent: "Lost the connection to the receiver: no answer for 4 s". */
export function silentPeerMessage(peer: "sender" | "receiver"): string {
  return `Lost the connection to the ${peer}: no answer for ${LINK_IDLE_TIMEOUT_MS / 1000} s`;
}

/**
 * The words for a link this side could not keep alive because this process
 * did not run (stopped, starved) for longer than the peer waits:
 * "Lost the connection to the receiver: this side was paused for 12.3 s (the receiver gives up after 4 s)".
 */
export function pausedMessage(peer: "sender" | "receiver", pausedMs: number): string {
  return `Lost the connection to the ${peer}: this side was paused for ${
    (pausedMs / 1000).toFixed(1)
  } s (the ${peer} gives up after ${LINK_IDLE_TIMEOUT_MS / 1000} s)`;
}

/**
 * The words for a TCP link the peer's side dropped without ending the session
 * (killed: its kernel closes the connection; a relay that died):
 * "Lost the connection to the receiver: the TCP connection was cut".
 */
export function cutPeerMessage(peer: "sender" | "receiver"): string {
  return `Lost the connection to the ${peer}: the TCP connection was cut`;
}

/** Why a link ended: `failed` false for a finished transfer. */
export interface LinkEnd {
  failed: boolean;
  /** Shown to the other side's user; at most 200 UTF-8 bytes cross the wire. */
  message: string;
}

export interface PeerLink extends AsyncDisposable {
  readonly transport: Transport;
  /** Opens a new bidirectional stream to the peer; a data stream may go on a lane. */
  openStream(options?: OpenStreamOptions): Promise<ByteStream>;
  /** The next stream the peer opened; rejects with `ConnectionLostError` once the link is gone. */
  acceptStream(): Promise<ByteStream>;
  /**
   * Called once the PAKE succeeded, with its session key: a QUIC link lets its
   * lanes join (peer/PROTOCOL.md, "Lanes"). Links without lanes lack it.
   */
  useLanes?(sessionKey: Uint8Array): void;
  /**
   * Ends the link and tells the peer why. Resolves once the peer was told (or
   * the link is already gone); safe to call more than once.
   */
  close(end: LinkEnd): Promise<void>;
  /**
   * Settles when the link is gone: with the peer's `LinkEnd` when it closed
   * first and said why, with `undefined` when we closed it or it just died.
   */
  readonly closed: Promise<LinkEnd | undefined>;
  /**
   * Once `closed` settled because the peer went silent (killed, frozen, the
   * path or relay died): what to tell the user, e.g. {@link silentPeerMessage}
   * or {@link cutPeerMessage}.
   */
  readonly lostReason?: string;
}
