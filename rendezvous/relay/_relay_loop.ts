/** The UDP relay port's hot loop (../PROTOCOL.md, "Relay"): one reused buffer, one lookup, one send. */
import type { Received } from "../sockets/mod.ts";
import type { RelayTable } from "./_relay_sessions.ts";
import { isRendezvousDatagram } from "../wire/mod.ts";

/** Big enough for any UDP datagram (IPv4 or IPv6, no jumbograms), so a relayed datagram is never cut. */
const RELAY_BUFFER_SIZE = 65_536;

export interface RelayLoopHooks {
  /** The next datagram, its source normalized (an IPv4 peer is never `::ffff:`-mapped). */
  receive(buffer: Uint8Array): Promise<Received>;
  /** Handles a rendezvous datagram (a hello): those are never forwarded. */
  control(data: Uint8Array, from: Deno.NetAddr): Promise<void>;
  closed(): boolean;
  onError(): void;
}

/**
 * Forwards every other datagram from one recorded peer to the other, until
 * the socket closes. The peers may be of different families: the relay
 * socket is dual-stack unless the server binds one family.
 */
export async function relayLoop(
  conn: Deno.DatagramConn,
  relays: RelayTable,
  hooks: RelayLoopHooks,
): Promise<void> {
  const buffer = new Uint8Array(RELAY_BUFFER_SIZE);
  while (!hooks.closed()) {
    const received = await hooks.receive(buffer);
    if (received === "closed") return;
    if (received === "failed") continue;
    const [data, from] = received;
    if (isRendezvousDatagram(data)) {
      await hooks.control(data, from);
      continue;
    }
    const target = relays.forward(from.hostname, from.port, data.length);
    if (target === undefined) continue;
    try {
      await conn.send(data, target);
    } catch {
      if (hooks.closed()) return;
      hooks.onError();
    }
  }
}
