/**
 * What the peer layer needs from a transport once a path is chosen: streams in
 * both directions and a way to end with a reason the other side can show.
 * QUIC on the punched port (`quic.ts`) and TLS over TCP (`tls_link.ts`) both
 * implement it, so the PAKE and the transfer run unchanged on either.
 */
import type { ByteStream } from "../transfer/mod.ts";

export type Transport = "quic" | "tcp";

/** Why a link ended: `failed` false for a finished transfer. */
export interface LinkEnd {
  failed: boolean;
  /** Shown to the other side's user; at most 200 UTF-8 bytes cross the wire. */
  message: string;
}

export interface PeerLink extends AsyncDisposable {
  readonly transport: Transport;
  /** Opens a new bidirectional stream to the peer. */
  openStream(): Promise<ByteStream>;
  /** The next stream the peer opened; rejects with `ConnectionLostError` once the link is gone. */
  acceptStream(): Promise<ByteStream>;
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
}
