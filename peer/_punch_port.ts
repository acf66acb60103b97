/**
 * The punch port with, for a sender that may use TLS, a TLS listener on the
 * same port number over TCP: a receiver that reached a private candidate over
 * UDP dials that ip and port over TCP, so no port travels separately.
 */
import { P2pftError } from "../base/mod.ts";
import type { PeerCertificate } from "./cert/mod.ts";
import { bindPunchSockets, type PunchSockets } from "./punch/mod.ts";
import type { TlsPeerListener } from "./tls/mod.ts";

/** Free UDP ports tried before giving up on one free for IPv6 and TCP too. */
const ATTEMPTS = 8;

export interface PunchPort {
  sockets: PunchSockets;
  /** Present when a certificate was given. */
  listener?: TlsPeerListener;
}

export interface PunchPortOptions {
  /** Listen for TLS with it on the same port number. */
  certificate?: PeerCertificate;
  /** Which connecting addresses the listener admits; see `ListenTlsPeerOptions.admit`. */
  admit?: (remote: Deno.NetAddr) => boolean;
  /**
   * Serve TLS with Nagle's algorithm off (a small transfer; `listenTlsPeerNoDelay`): the streams
   * the sender opens first.
   */
  noDelay?: number;
  signal?: AbortSignal;
}

export async function bindPunchPort(options: PunchPortOptions): Promise<PunchPort> {
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let sockets: PunchSockets;
    try {
      sockets = await bindPunchSockets();
    } catch (error) {
      // The IPv6 port of that number is taken: another port will do.
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      lastError = error;
      continue;
    }
    if (!options.certificate) return { sockets };
    const port = (sockets.socket.addr as Deno.NetAddr).port;
    try {
      // A sender's (only a sender has a certificate): a receiver's first request to the rendezvous
      // server does not wait for the TLS link's modules.
      const tls = await import("./tls/mod.ts");
      const listen = options.noDelay ? tls.listenTlsPeerNoDelay : tls.listenTlsPeer;
      const listener = await listen(port, {
        certificate: options.certificate,
        admit: options.admit,
        firstStreams: options.noDelay,
        signal: options.signal,
      });
      return { sockets, listener };
    } catch (error) {
      // The TCP port of that number is taken: another UDP port will do.
      lastError = error;
      sockets.closeLowTtl();
      sockets.socket.close();
      sockets.socket6?.close();
    }
  }
  throw new P2pftError(
    `Cannot find a port free on UDP (IPv4 and IPv6) and TCP after ${ATTEMPTS} tries`,
    { cause: lastError },
  );
}
