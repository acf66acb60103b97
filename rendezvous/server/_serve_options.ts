/** The rendezvous server's options and statistics (see ../PROTOCOL.md for the limits). */
import type { RelayLimits } from "../relay/mod.ts";
import { DEFAULT_ROOM_LIMITS, parseRedisUrl, type RoomLimits } from "../store/mod.ts";
import { DEFAULT_RENDEZVOUS_PORT, isEncodableAddr } from "../wire/mod.ts";
import type { Ports } from "../sockets/mod.ts";

export { DEFAULT_RENDEZVOUS_PORT };

export interface ServeOptions {
  /**
   * Address to bind, for every socket. Default: "::", dual-stack (IPv4 and
   * IPv6), or "0.0.0.0" on a host without IPv6. "0.0.0.0": IPv4 only; an IPv6
   * address: IPv6 only.
   */
  hostname?: string;
  /** UDP port to bind (default 9000; 0 = any free port). */
  port?: number;
  /**
   * The second UDP port, for NAT mapping detection (default 0 = any free
   * port; clients learn it from the main port).
   */
  altPort?: number;
  /**
   * Also listen on TCP, on the same port numbers as the main and relay UDP
   * ports (default true): rendezvous over TCP on the main port, the TCP relay
   * on the relay port. With port 0, the UDP port is picked first and TCP
   * binds the same number (retrying with another pick if TCP has it taken).
   */
  tcp?: boolean;
  /** Run the relays (default true); `false` binds no relay socket, UDP or TCP (`serve --no-relay`). */
  relay?: boolean;
  /** The relay's UDP port (default 0 = any free port; clients learn it from the main port). */
  relayPort?: number;
  /** Most live relay sessions (default 64). */
  relayMaxSessions?: number;
  /** Bytes per second one relay session may forward, both directions together (default: no cap). */
  relayBytesPerSecond?: number;
  /** Bytes a quiet relay session may forward at once (default 0.1 s of the rate, at least 64 KiB). */
  relayBurstBytes?: number;
  /** Bytes one relay session may forward in all; then it ends, and its peers learn why (default: no cap). */
  relayMaxBytes?: number;
  /** A relay session without traffic or hello this long ends (default 30 s). */
  relayIdleTimeoutMs?: number;
  /** Most TCP relay channels (connection pairs) one room may hold at once (default 32). */
  relayMaxChannels?: number;
  /** How long a TCP relay hello waits for the other peer's hello (default 10 s). */
  relayPeerWaitMs?: number;
  /** Most TCP connections open at once, rendezvous and relay together (default 1024). */
  tcpMaxConnections?: number;
  /** Most TCP connections one source may hold open (default 80). */
  tcpMaxConnectionsPerSource?: number;
  /** A TCP rendezvous connection that sends no frame this long is closed (default 30 s). */
  tcpIdleTimeoutMs?: number;
  /** A frame, or a TCP relay hello, must arrive whole within this long once started (default 5 s). */
  tcpReadTimeoutMs?: number;
  /**
   * A TCP connection (rendezvous or relay) that has not completed a request or
   * a relay hello this long after it was accepted is closed (default 3 s).
   */
  tcpFirstFrameTimeoutMs?: number;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
  /** Requests per second one proven source (ip:port) may make (default 50). */
  ratePerSecond?: number;
  /** Requests a quiet proven source (ip:port) may make at once (default 100). */
  burst?: number;
  /** Requests per second one proven IP may make, all its ports together (default 500). */
  ipRatePerSecond?: number;
  /** Requests a quiet proven IP may make at once (default 1000). */
  ipBurst?: number;
  /** Cookie answers per second to unproven sources, all together (default 10,000). */
  cookieRatePerSecond?: number;
  /** Cookie answers the server may send at once after a quiet spell (default 10,000). */
  cookieBurst?: number;
  /**
   * The cookie MAC key (at least 16 bytes; default: 32 random bytes per
   * process). Instances behind one address (anycast, a load balancer) must
   * share it, or a cookie minted by one is refused by the next.
   */
  cookieSecret?: Uint8Array;
  /** Most sources tracked by each rate limiter (default 65,536). */
  maxSources?: number;
  /** Most rooms at once (default 10,000). */
  maxRooms?: number;
  /** Most rooms one source may hold at once (default 32). */
  maxRoomsPerSource?: number;
  /** A waiting room whose sender stops polling this long is freed (default 10 s). */
  idleTimeoutMs?: number;
  /** A waiting room is freed after this long regardless (default 10 min). */
  maxWaitMs?: number;
  /**
   * A paired room keeps answering retransmissions, and its token stays valid
   * for `relay-hello`, this long (default 30 s); a live relay session keeps it longer.
   */
  pairedLingerMs?: number;
  /**
   * What counts as one host for the per-IP rate limit and the room quota:
   * `"ip"` (default) or `"ip-port"` (each UDP port alone: lets tests on
   * loopback stand in many hosts with many sockets).
   */
  sourceKey?: "ip" | "ip-port";
  /**
   * Where rooms live: `memory` (default: this process only) or
   * `redis://HOST:PORT[/DB]`, shared by every instance using it (see ../PROTOCOL.md,
   * "Several instances").
   */
  store?: string;
  /**
   * The host name, IPv4 or IPv6 address (no brackets) peers reach this
   * instance's relay at, told to peers that registered at another instance
   * (default: the bound address; required with a shared store when binding
   * all addresses).
   */
  publicAddress?: string;
}

export interface ServerStats {
  /** Rendezvous datagrams received (on any port; relayed traffic is not counted here). */
  received: number;
  /** Dropped: oversized, undecodable, or a message the server does not take on that port. */
  malformed: number;
  /** Dropped: a proven source over its rate limit (per ip:port or per IP). */
  rateLimited: number;
  /** Dropped: too short to carry their reply (amplification guard). */
  tooSmall: number;
  /** Cookie answers sent (to unproven sources, and refreshes of last period's cookies). */
  cookies: number;
  /** Dropped: no valid cookie, and either no cookie budget left or a request never answered (`leave`). */
  unproven: number;
  /** Replies sent (cookie answers included). */
  replies: number;
  /** Bytes of rendezvous datagrams received over UDP (relayed traffic excluded). */
  udpRequestBytes: number;
  /** Bytes of replies sent over UDP: never more than `udpRequestBytes`. */
  udpReplyBytes: number;
  /** `paired` sent to a waiting sender the moment its receiver came (UDP or TCP). */
  pushed: number;
  /** Rooms held now. */
  rooms: number;
  /** Rooms that paired since start. */
  pairings: number;
  /** Proven sources (ip:port) the rate limiter tracks now; unproven ones are never tracked. */
  sources: number;
  /** Live relay sessions now. */
  relaySessions: number;
  /** Bytes relayed since start. */
  relayedBytes: number;
  /** Non-rendezvous datagrams at the relay port not relayed (unknown source, peer missing, over a limit). */
  relayDropped: number;
  /** TCP connections open now (rendezvous and relay). */
  tcpConnections: number;
  /** TCP connections closed at once because a connection cap was reached. */
  tcpRefused: number;
  /** TCP connections closed to make room for a new one (the oldest unproven, or the largest source's). */
  tcpEvicted: number;
  /** Live TCP relay sessions (rooms) now. */
  tcpRelaySessions: number;
  /** TCP relay channels waiting or spliced now. */
  tcpRelayChannels: number;
  /** Bytes spliced by the TCP relay since start. */
  tcpRelayedBytes: number;
  /** Unexpected errors survived (failed sends, bugs); should stay 0. */
  errors: number;
  /** Requests answered with error 13 because the shared store could not answer. */
  storeUnavailable: number;
  /** Connection errors of the shared store (it reconnects on its own). */
  storeErrors: number;
  /** Round trips to the shared store (0 for memory). */
  storeRoundTrips: number;
}

/** Checks the port options. @throws {TypeError|RangeError} */
export function validateServeOptions(options: ServeOptions): void {
  if (options.sourceKey !== undefined && !["ip", "ip-port"].includes(options.sourceKey)) {
    throw new TypeError(`Invalid sourceKey ${JSON.stringify(options.sourceKey)}`);
  }
  for (const name of ["relay", "tcp"] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`Invalid ${name} ${JSON.stringify(value)}: expected a boolean`);
    }
  }
  if (options.store !== undefined && options.store !== "memory") {
    parseRedisUrl(options.store);
    const host = options.hostname ?? "::";
    if (options.publicAddress === undefined && (host === "0.0.0.0" || host === "::")) {
      throw new TypeError(
        `A shared store (${options.store}) needs --public-address HOST when binding ${host}: ` +
          "peers that registered at another instance are told to relay at this address",
      );
    }
  }
  const publicAddress = options.publicAddress;
  if (
    publicAddress !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(publicAddress) &&
    !isEncodableAddr({ transport: "udp", hostname: publicAddress, port: 1 })
  ) {
    throw new TypeError(
      `Invalid public address ${
        JSON.stringify(publicAddress)
      }: expected a host name, an IPv4 address or an IPv6 address without brackets`,
    );
  }
  for (const name of ["port", "altPort", "relayPort"] as const) {
    const port = options[name];
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
      throw new RangeError(`Invalid ${name} ${port}: expected an integer from 0 to 65535`);
    }
  }
}

/** The ports to bind, defaults filled in. */
export function serverPorts(options: ServeOptions): Ports {
  return {
    port: options.port ?? DEFAULT_RENDEZVOUS_PORT,
    altPort: options.altPort ?? 0,
    relayPort: options.relayPort ?? 0,
    relay: options.relay !== false,
    tcp: options.tcp !== false,
  };
}

/** The room limits, defaults filled in where `options` has none. */
export function roomLimits(options: ServeOptions): RoomLimits {
  const out = { ...DEFAULT_ROOM_LIMITS };
  for (const name of Object.keys(DEFAULT_ROOM_LIMITS) as (keyof RoomLimits)[]) {
    if (options[name] !== undefined) out[name] = options[name];
  }
  return out;
}

/** The server's own counters, all zero. */
export function emptyCounts() {
  return {
    received: 0,
    malformed: 0,
    rateLimited: 0,
    tooSmall: 0,
    cookies: 0,
    unproven: 0,
    replies: 0,
    udpRequestBytes: 0,
    udpReplyBytes: 0,
    errors: 0,
  };
}

/**
 * The admission budgets, defaults filled in where `options` has none.
 * @throws {RangeError} for a budget that is not a positive number.
 */
export function admissionLimits(options: ServeOptions) {
  const limits = {
    ratePerSecond: options.ratePerSecond ?? 50,
    burst: options.burst ?? 100,
    ipRatePerSecond: options.ipRatePerSecond ?? 500,
    ipBurst: options.ipBurst ?? 1000,
    cookieRatePerSecond: options.cookieRatePerSecond ?? 10_000,
    cookieBurst: options.cookieBurst ?? 10_000,
    maxSources: options.maxSources ?? 65_536,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`Invalid ${name} ${value}: expected a positive number`);
    }
  }
  return limits;
}

/** The limits both relays (UDP and TCP) share; undefined ones take the relays' defaults. */
export function relayLimits(options: ServeOptions): Partial<RelayLimits> {
  return {
    maxSessions: options.relayMaxSessions,
    bytesPerSecond: options.relayBytesPerSecond,
    burstBytes: options.relayBurstBytes,
    maxBytes: options.relayMaxBytes,
    idleTimeoutMs: options.relayIdleTimeoutMs,
  };
}
