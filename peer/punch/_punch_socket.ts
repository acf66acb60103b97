/**
 * The punch port: one UDP socket for rendezvous and probes, plus a second,
 * send-only socket on the same port whose packets carry a small TTL.
 *
 * Why the second socket: a router whose own stack accepts unsolicited UDP (a
 * plain Linux box doing masquerade) records the peer's first probe as a flow
 * to itself; our own first packet to the peer then collides with that flow
 * and leaves on another public port, on both sides, so no probe ever gets
 * through (peer/PROTOCOL.md, "Port stealing"). A packet with TTL 2 crosses our
 * own router, opening our mapping toward the peer, and dies before it reaches
 * the peer's router. `Deno.DatagramConn` cannot set a TTL, node:dgram can.
 *
 * IPv6 takes a third socket, `[::]:P`. The IPv4 main socket cannot be a
 * dual-stack one: Linux hands an IPv4 datagram to an AF_INET socket on the
 * port before an AF_INET6 one, so the low-TTL sender would swallow it
 * (peer/PROTOCOL.md, "Both families on one port").
 */
import { lacksIpv6 } from "../../base/mod.ts";

/** Crosses a home router (hop 1) and the next hop, never a peer's router in the lab topology. */
export const MAPPING_TTL = 2;

export interface PunchSockets {
  /** Receives all IPv4 addressed to the port (bound after the low-TTL sender, so the kernel picks it). */
  socket: Deno.DatagramConn;
  /** `[::]:P`: receives the port's IPv6 traffic; absent where the host has no IPv6. */
  socket6?: Deno.DatagramConn;
  /** Sends an IPv4 datagram from the same port with TTL `MAPPING_TTL`; never receives. */
  sendLowTtl(data: Uint8Array, to: Deno.NetAddr): void;
  /** Closes the low-TTL sender (the main socket is closed by its owner). */
  closeLowTtl(): void;
}

/**
 * Binds the low-TTL sender first on a free port, then the main socket on the
 * same port: with SO_REUSEADDR on both, Linux delivers unicast datagrams to
 * the AF_INET socket bound last, so the main socket sees all incoming IPv4.
 * Then the IPv6 socket on the same port. Throws `Deno.errors.AddrInUse` when
 * another program holds the port for IPv6 (the caller tries another port).
 */
export async function bindPunchSockets(): Promise<PunchSockets> {
  const dgram = await loadDgram();
  const lowTtl = dgram.createSocket({ type: "udp4", reuseAddr: true, lookup: literalLookup });
  await new Promise<void>((resolve, reject) => {
    lowTtl.once("error", reject);
    lowTtl.bind(0, "0.0.0.0", () => {
      lowTtl.off("error", reject);
      resolve();
    });
  });
  // A failed low-TTL send only means that path is not opened early.
  lowTtl.on("error", () => {});
  let socket: Deno.DatagramConn;
  let socket6: Deno.DatagramConn | undefined;
  try {
    lowTtl.setTTL(MAPPING_TTL);
    socket = Deno.listenDatagram({
      transport: "udp",
      hostname: "0.0.0.0",
      port: lowTtl.address().port,
      reuseAddress: true,
    });
  } catch (error) {
    lowTtl.close();
    throw error;
  }
  try {
    socket6 = bindIpv6(lowTtl.address().port);
  } catch (error) {
    lowTtl.close();
    socket.close();
    throw error;
  }
  let closed = false;
  return {
    socket,
    ...(socket6 ? { socket6 } : {}),
    sendLowTtl(data, to) {
      if (!closed) lowTtl.send(data, to.port, to.hostname);
    },
    closeLowTtl() {
      if (closed) return;
      closed = true;
      lowTtl.close();
    },
  };
}

let dgramModule: Promise<typeof import("node:dgram")> | undefined;

/**
 * node:dgram, loaded once, when first asked for: it is the process's heaviest node: module (with
 * the Node buffers and events it brings, ~20 ms of CPU), and nothing before the punch port needs it
 * (a sender's `offer` event comes before). `LocalEnd.open` asks for it first, so that it loads while
 * the sender's certificate is made.
 */
export function loadDgram(): Promise<typeof import("node:dgram")> {
  return dgramModule ??= import("node:dgram");
}

/**
 * node:dgram resolves every address it binds or sends to with a DNS lookup, even an IP literal:
 * the default one loads node:dns and answers on the thread pool (15 ms at the first bind here, and
 * a pool round trip per low-TTL probe). Every address given here is already an IP literal.
 */
function literalLookup(
  address: string,
  _family: unknown,
  callback: (error: Error | null, address: string, family: number) => void,
): void {
  callback(null, address, 4);
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
