/**
 * Binds the server's sockets: UDP main, alt and relay ports, and TCP on the
 * main and relay port numbers, so an operator opens the same numbers for both.
 */
import { closeQuietly } from "./_tcp_connections.ts";

export interface BoundSockets {
  main: Deno.DatagramConn;
  alt: Deno.DatagramConn;
  relay?: Deno.DatagramConn;
  mainTcp?: Deno.TcpListener;
  relayTcp?: Deno.TcpListener;
}

/** With port 0, how many UDP picks to try before giving up on finding the TCP twin free. */
const PICKS = 8;

/**
 * Binds everything or nothing.
 * @throws the bind error (e.g. `Deno.errors.AddrInUse`) when a fixed port is taken.
 */
export function bindSockets(hostname: string, ports: {
  port: number;
  altPort: number;
  relayPort: number;
  relay: boolean;
  tcp: boolean;
}): BoundSockets {
  const opened: { close(): void }[] = [];
  try {
    const [main, mainTcp] = bindTwins(hostname, ports.port, ports.tcp);
    opened.push(main, ...(mainTcp ? [mainTcp] : []));
    const alt = Deno.listenDatagram({ transport: "udp", hostname, port: ports.altPort });
    opened.push(alt);
    const bound: BoundSockets = { main, alt, mainTcp };
    if (ports.relay) {
      [bound.relay, bound.relayTcp] = bindTwins(hostname, ports.relayPort, ports.tcp);
    }
    return bound;
  } catch (error) {
    for (const socket of opened) closeQuietly(socket);
    throw error;
  }
}

/** A UDP socket and, with `tcp`, a TCP listener on the same port number. */
function bindTwins(
  hostname: string,
  port: number,
  tcp: boolean,
): [Deno.DatagramConn, Deno.TcpListener | undefined] {
  for (let pick = 1;; pick++) {
    const udp = Deno.listenDatagram({ transport: "udp", hostname, port });
    if (!tcp) return [udp, undefined];
    try {
      const bound = (udp.addr as Deno.NetAddr).port;
      return [udp, Deno.listen({ transport: "tcp", hostname, port: bound })];
    } catch (error) {
      udp.close();
      // A free UDP port whose TCP twin is taken: only a picked port may be picked again.
      if (port !== 0 || !(error instanceof Deno.errors.AddrInUse) || pick >= PICKS) throw error;
    }
  }
}
