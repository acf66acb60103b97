/**
 * The punch port: one UDP socket for rendezvous and probes, plus a second
 * socket on the same port whose packets carry a small TTL, opened for the
 * first of them (what it receives meanwhile is handed on, `forwardTo`).
 *
 * Why the second socket: a router whose own stack accepts unsolicited UDP (a
 * plain Linux box doing masquerade) records the peer's first probe as a flow
 * to itself; our own first packet to the peer then collides with that flow
 * and leaves on another public port, on both sides, so no probe ever gets
 * through (peer/PROTOCOL.md, "Port stealing"). A packet with TTL 2 crosses our
 * own router, opening our mapping toward the peer, and dies before it reaches
 * the peer's router. `Deno.DatagramConn` cannot set a TTL, node:dgram can, so that socket is
 * node:dgram's, opened only for the first such packet.
 *
 * IPv6 takes a third socket, `[::]:P`. The IPv4 main socket cannot be a
 * dual-stack one: Linux hands an IPv4 datagram to an AF_INET socket on the
 * port before an AF_INET6 one, so the low-TTL sender would swallow it
 * (peer/PROTOCOL.md, "Both families on one port").
 */
import { lacksIpv6 } from "../../base/mod.ts";

/** Crosses a home router (hop 1) and the next hop, never a peer's router in the lab topology. */
export const MAPPING_TTL = 2;

/** Where the low-TTL socket's datagrams go (the mux of the main socket: `DatagramMux.deliver`). */
export type DatagramSink = (data: Uint8Array, from: Deno.NetAddr) => void;

export interface PunchSockets {
  /** Receives all IPv4 addressed to the port, except while the low-TTL sender is open. */
  socket: Deno.DatagramConn;
  /** `[::]:P`: receives the port's IPv6 traffic; absent where the host has no IPv6. */
  socket6?: Deno.DatagramConn;
  /**
   * Sends an IPv4 datagram from the same port with TTL `MAPPING_TTL`. The first call opens that
   * sender (node:dgram, loaded then); the datagrams wait for it.
   */
  sendLowTtl(data: Uint8Array, to: Deno.NetAddr): void;
  /**
   * Where the low-TTL sender hands what it receives: bound last on the port, it gets the port's
   * IPv4 unicast from then on (Linux picks the socket bound last).
   */
  forwardTo(sink: DatagramSink): void;
  /**
   * Closes the low-TTL sender, if it was opened, and resolves once its port is the main socket's
   * alone again (the main socket is closed by its owner).
   */
  closeLowTtl(): Promise<void>;
}

/**
 * Binds the main socket on a free port, then the IPv6 socket on the same port
 * (SO_REUSEADDR on both). Throws `Deno.errors.AddrInUse` when another program
 * holds the port for IPv6 (the caller tries another port). The low-TTL sender
 * is opened only when a low-TTL datagram is first sent (a public candidate,
 * peer/PROTOCOL.md, "Port stealing"): node:dgram starts Deno's Node layer
 * (~20-45 ms of the main thread), which a LAN transfer never needs.
 */
export function bindPunchSockets(): Promise<PunchSockets> {
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "0.0.0.0",
    port: 0,
    reuseAddress: true,
  });
  const port = (socket.addr as Deno.NetAddr).port;
  let socket6: Deno.DatagramConn | undefined;
  try {
    socket6 = bindIpv6(port);
  } catch (error) {
    socket.close();
    return Promise.reject(error);
  }
  const lowTtl = new LowTtlSender(port);
  return Promise.resolve({
    socket,
    ...(socket6 ? { socket6 } : {}),
    sendLowTtl: (data, to) => lowTtl.send(data, to),
    forwardTo: (sink) => lowTtl.sink = sink,
    closeLowTtl: () => lowTtl.close(),
  });
}

type NodeSocket = import("node:dgram").Socket;

/** The low-TTL sender on `port`, opened by its first send; best effort throughout. */
class LowTtlSender {
  sink: DatagramSink | undefined;
  readonly #port: number;
  #opening: Promise<NodeSocket | undefined> | undefined;
  #closed = false;

  constructor(port: number) {
    this.#port = port;
  }

  send(data: Uint8Array, to: Deno.NetAddr): void {
    if (this.#closed) return;
    // A failed open or send only means that path is not opened early.
    this.#opening ??= this.#open().catch(() => undefined);
    this.#opening.then((socket) => {
      if (socket && !this.#closed) socket.send(data, to.port, to.hostname);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const socket = await this.#opening;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.#opening = undefined;
  }

  /**
   * node:dgram's default lookup (node:dns) resolves each address: a lookup of its own, which
   * answered IP literals at once, left the socket's `close` never completing in Deno 2.9.6 once it
   * had received a datagram, and the port held.
   */
  async #open(): Promise<NodeSocket | undefined> {
    const dgram = await loadDgram();
    if (this.#closed) return undefined;
    const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
    socket.on("message", (message, remote) => {
      this.sink?.(new Uint8Array(message), {
        transport: "udp",
        hostname: remote.address,
        port: remote.port,
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(this.#port, "0.0.0.0", () => {
          socket.off("error", reject);
          resolve();
        });
      });
      socket.setTTL(MAPPING_TTL);
    } catch (error) {
      socket.close();
      throw error;
    }
    socket.on("error", () => {});
    return socket;
  }
}

let dgramModule: Promise<typeof import("node:dgram")> | undefined;

/** node:dgram, loaded once, when the low-TTL sender is first opened. */
function loadDgram(): Promise<typeof import("node:dgram")> {
  return dgramModule ??= import("node:dgram");
}

/** `[::]:port`, or undefined where the host has no IPv6; any other error (a port in use) is thrown. */
function bindIpv6(port: number): Deno.DatagramConn | undefined {
  try {
    return Deno.listenDatagram({ transport: "udp", hostname: "::", port, reuseAddress: true });
  } catch (error) {
    if (!lacksIpv6(error)) throw error;
    return undefined;
  }
}
