/**
 * The first phase of opening a link (connect.ts): this side's end before it
 * knows the peer. The sender's certificate, the punch port (UDP, and for a
 * sender the TLS listener on the same number over TCP) and the datagram mux
 * that the rendezvous client and punching share.
 */
import type { PeerCertificate } from "./cert/mod.ts";
import { isRendezvousDatagram } from "../rendezvous/mod.ts";
import { type DatagramChannel, DatagramMux, loadDgram, type PunchSockets } from "./punch/mod.ts";
import type { TlsPeerListener } from "./tls/mod.ts";
import type { TransportChoice } from "./_choose_transport.ts";
import { bindPunchPort, type PunchPort } from "./_punch_port.ts";

/**
 * The largest offer whose LAN TLS link is served with Nagle's algorithm off (node:tls): there the
 * ~40 ms waits for a delayed ACK are most of the time; a larger transfer keeps `Deno.listenTls`,
 * with which GiB transfers were measured (peer/tls/PROTOCOL.md, "Nagle-free server for small
 * transfers").
 */
export const NO_DELAY_MAX_BYTES = 8 * 1024 * 1024;

/** What a sender offers, when known before it connects. */
export interface Offered {
  bytes: number;
  /**
   * The streams the sender opens first over a LAN TLS link (its receiver dials them at once over
   * a Nagle-free link): the transfer's control stream and its data streams, which the transfer
   * knows (transfer/first_streams_mod.ts, `streamsToOpen`).
   */
  firstStreams: number;
}

/** Who this side is: only a sender has a certificate (the receiver learns the sender's). */
export type Side =
  | { role: "sender"; certificate: PeerCertificate }
  | { role: "receiver"; certificate?: undefined };

/**
 * Closing it closes the UDP sockets, and the TLS listener unless a LAN TLS
 * link was accepted on it (the link then owns it: {@link LocalEnd.keepListener}).
 */
export class LocalEnd implements AsyncDisposable {
  readonly side: Side;
  readonly sockets: PunchSockets;
  /** The sender's TLS listener on the punch port's number (absent with `--transport quic`). */
  readonly listener?: TlsPeerListener;
  readonly mux: DatagramMux;
  /** The rendezvous client's datagrams on the punch port (and the UDP relay's hello). */
  readonly rendezvous: DatagramChannel;
  /** A sender's first streams, when its offer is known before it connects (`Offered`). */
  readonly firstStreams?: number;
  readonly #admission: Admission;
  #udpOpen = true;
  #listenerKept = false;

  private constructor(side: Side, port: PunchPort, admission: Admission, offer?: Offered) {
    this.side = side;
    this.firstStreams = offer?.firstStreams;
    this.#admission = admission;
    this.sockets = port.sockets;
    this.listener = port.listener;
    this.mux = new DatagramMux(port.sockets.socket, { ipv6: port.sockets.socket6 });
    this.rendezvous = this.mux.channel(isRendezvousDatagram);
  }

  /**
   * `offer`: a sender's offer, when its size is known (a small one is served with Nagle off).
   * `relayOnly`: this side takes only the relay (`--relay-only`).
   */
  static async open(
    role: Side["role"],
    options: { choice: TransportChoice; offer?: Offered; relayOnly?: boolean },
  ): Promise<LocalEnd> {
    const { choice, offer } = options;
    const noDelay = role === "sender" && choice !== "quic" && offer &&
        offer.bytes <= NO_DELAY_MAX_BYTES
      ? offer.firstStreams
      : undefined;
    // The punch port's modules (and node:net and node:tls for a Nagle-free listener, or for the
    // TLS server of a sender that takes only the TCP relay) load while the certificate is made
    // (the key is made off this thread): after pairing they cost the relayed sender 45-110 ms of
    // its thread before its first relay dial, on the path to the first byte.
    loadDgram().catch(() => {});
    const relayServer = role === "sender" && choice !== "quic" && options.relayOnly;
    if (noDelay || relayServer) {
      import("./tls/mod.ts").then((tls) => tls.loadNoDelayServer()).catch(() => {});
    }
    // Only a sender makes a certificate and listens for TLS (the punch port's listener): a
    // receiver loads peer/cert/ and peer/tls/ with its link, after its register.
    const side: Side = role === "sender"
      ? { role, certificate: await (await import("./cert/mod.ts")).createPeerCertificate() }
      : { role };
    const admission = new Admission();
    const port = await bindPunchPort({
      certificate: choice === "quic" ? undefined : side.certificate,
      admit: (remote) => admission.admits(remote),
      noDelay,
    });
    return new LocalEnd(side, port, admission, offer);
  }

  /** The punch port (our candidates' port, and the listener's). */
  get port(): number {
    return this.mux.port;
  }

  /** Lets TLS connections from these IPs through the listener. */
  admit(ips: string[]): void {
    for (const ip of ips) this.#admission.ips.add(ip);
  }

  /** The first connection the listener let through: the receiver's address on a LAN TLS link. */
  get firstAdmitted(): Deno.NetAddr | undefined {
    return this.#admission.first;
  }

  /** Ends raw UDP work (once the link is chosen): QUIC may bind the same port next. */
  async closeUdp(): Promise<void> {
    if (!this.#udpOpen) return;
    this.#udpOpen = false;
    this.sockets.closeLowTtl();
    await this.mux.close();
  }

  /** The LAN TLS link won: it owns the listener, which keeps accepting its streams. */
  keepListener(): void {
    this.#listenerKept = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeUdp();
    if (!this.#listenerKept) await this.listener?.[Symbol.asyncDispose]();
  }
}

/** Which TLS connections the listener lets through: from the receiver's IPs, once known. */
class Admission {
  readonly ips = new Set<string>();
  first: Deno.NetAddr | undefined;

  admits(remote: Deno.NetAddr): boolean {
    if (!this.ips.has(remote.hostname)) return false;
    this.first ??= remote;
    return true;
  }
}
