/**
 * Binds the server's sockets: UDP main, alt and relay ports, and TCP on the
 * main and relay port numbers, so an operator opens the same numbers for both.
 */
import { closeQuietly } from "./_tcp_connections.ts";
import { bindEitherStack, normalizeAddr } from "../../base/mod.ts";

export interface BoundSockets {
  main: Deno.DatagramConn;
  alt: Deno.DatagramConn;
  relay?: Deno.DatagramConn;
  mainTcp?: Deno.TcpListener;
  relayTcp?: Deno.TcpListener;
}

/** The ports to bind; `relay`/`tcp` false: bind no relay / no TCP. */
export interface Ports {
  port: number;
  altPort: number;
  relayPort: number;
  relay: boolean;
  tcp: boolean;
}

/**
 * Binds `hostname`; without one, "::" (dual-stack: IPv4 peers arrive as
 * IPv4-mapped addresses), or "0.0.0.0" when this host has no IPv6.
 * `bindAll` replaces {@link bindSockets} in tests.
 * @throws the bind error (e.g. `Deno.errors.AddrInUse`) when a fixed port is taken.
 */
export function bindServerSockets(
  hostname: string | undefined,
  ports: Ports & { bindAll?: typeof bindSockets },
): BoundSockets {
  const bindAll = ports.bindAll ?? bindSockets;
  if (hostname !== undefined) return bindAll(hostname, ports);
  return bindEitherStack((any) => bindAll(any, ports));
}

/** With port 0, how many UDP picks to try before giving up on finding the TCP twin free. */
const PICKS = 8;

/**
 * Binds everything or nothing.
 * @throws the bind error (e.g. `Deno.errors.AddrInUse`) when a fixed port is taken.
 */
export function bindSockets(hostname: string, ports: Ports): BoundSockets {
  const opened: { close(): void }[] = [];
  try {
    const [main, mainTcp] = named("rendezvous", () => bindTwins(hostname, ports.port, ports.tcp));
    opened.push(main, ...(mainTcp ? [mainTcp] : []));
    const alt = named("NAT check", () =>
      listen(
        "UDP",
        hostname,
        ports.altPort,
        () => Deno.listenDatagram({ transport: "udp", hostname, port: ports.altPort }),
      ));
    opened.push(alt);
    const bound: BoundSockets = { main, alt, mainTcp };
    if (ports.relay) {
      [bound.relay, bound.relayTcp] = named(
        "relay",
        () => bindTwins(hostname, ports.relayPort, ports.tcp),
      );
    }
    return bound;
  } catch (error) {
    for (const socket of opened) closeQuietly(socket);
    throw error;
  }
}

/** Runs one bind; a failure names the port and what it was for, keeping the error class. */
function named<T>(role: string, bind: () => T): T {
  try {
    return bind();
  } catch (error) {
    if (!(error instanceof PortError)) throw error;
    const cause = error.cause as Error;
    // In use: what to do, not Deno's "Address already in use (os error 98)" again.
    const why = cause instanceof Deno.errors.AddrInUse
      ? "is already in use by another program (another p2pft serve?): stop it, or choose another --port (serve takes that port and the two after it)"
      : `cannot be bound: ${cause.message}`;
    const Class = cause.constructor as new (message: string, options?: ErrorOptions) => Error;
    throw new Class(
      `${error.transport} port ${error.port} on ${error.hostname} (${role}) ${why}`,
      { cause },
    );
  }
}

/** Which socket failed to bind, for `named`. */
class PortError extends Error {
  constructor(
    readonly transport: "UDP" | "TCP",
    readonly hostname: string,
    readonly port: number,
    cause: unknown,
  ) {
    super(String(cause), { cause });
  }
}

function listen<T>(transport: "UDP" | "TCP", hostname: string, port: number, bind: () => T): T {
  try {
    return bind();
  } catch (error) {
    throw new PortError(transport, hostname, port, error);
  }
}

/** A UDP socket and, with `tcp`, a TCP listener on the same port number. */
function bindTwins(
  hostname: string,
  port: number,
  tcp: boolean,
): [Deno.DatagramConn, Deno.TcpListener | undefined] {
  for (let pick = 1;; pick++) {
    const udp = listen(
      "UDP",
      hostname,
      port,
      () => Deno.listenDatagram({ transport: "udp", hostname, port }),
    );
    if (!tcp) return [udp, undefined];
    const bound = (udp.addr as Deno.NetAddr).port;
    try {
      return [udp, listen("TCP", hostname, bound, () => Deno.listen({ hostname, port: bound }))];
    } catch (error) {
      udp.close();
      // A free UDP port whose TCP twin is taken: only a picked port may be picked again.
      const taken = error instanceof PortError && error.cause instanceof Deno.errors.AddrInUse;
      if (port !== 0 || !taken || pick >= PICKS) throw error;
    }
  }
}

/** A bound UDP socket's local address. */
export function netAddr(conn: Deno.DatagramConn): Deno.NetAddr {
  const { hostname, port } = conn.addr as Deno.NetAddr;
  return { transport: "udp", hostname, port };
}

/** One datagram and its (normalized) source; `closed` ends a receive loop, `failed` is counted. */
export type Received = [Uint8Array, Deno.NetAddr] | "closed" | "failed";

/** The next datagram on `conn`, its source normalized. */
export async function receiveDatagram(
  conn: Deno.DatagramConn,
  buffer: Uint8Array,
  closed: () => boolean,
): Promise<Received> {
  try {
    const [data, from] = await conn.receive(buffer);
    // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d: one host, one address.
    return [data, normalizeAddr(from as Deno.NetAddr)];
  } catch (error) {
    return receiveFailure(error, closed());
  }
}

/** What a failed receive means: the socket closed (the loop ends), or one datagram failed. */
export function receiveFailure(error: unknown, closed: boolean): "closed" | "failed" {
  return closed || error instanceof Deno.errors.BadResource ? "closed" : "failed";
}
