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
 */
import dgram from "node:dgram";

/** Crosses a home router (hop 1) and the next hop, never a peer's router in the lab topology. */
export const MAPPING_TTL = 2;

export interface PunchSockets {
  /** Receives everything addressed to the port (it was bound last, so the kernel picks it). */
  socket: Deno.DatagramConn;
  /** Sends a datagram from the same port with TTL `MAPPING_TTL`; never receives. */
  sendLowTtl(data: Uint8Array, to: Deno.NetAddr): void;
  /** Closes the low-TTL sender (the main socket is closed by its owner). */
  closeLowTtl(): void;
}

/**
 * Binds the low-TTL sender first on a free port, then the main socket on the
 * same port: with SO_REUSEADDR on both, Linux delivers unicast datagrams to
 * the socket bound last, so the main socket sees all incoming traffic.
 */
export async function bindPunchSockets(): Promise<PunchSockets> {
  const lowTtl = dgram.createSocket({ type: "udp4", reuseAddr: true });
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
  let closed = false;
  return {
    socket,
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
