/**
 * The UDP rendezvous server: a main port (register, observe), an alt port
 * (observe only, for NAT mapping detection) and a relay port. It only ever
 * replies to requests, never with more bytes than the request, and drops
 * (and counts) everything malformed, oversized, too small for its reply, or
 * over a source's rate limit. The relay forwards datagrams between the two
 * addresses that said a valid hello for the same paired room, and nothing else.
 */
import { ProtocolError } from "../errors.ts";
import { toHex as hex } from "../bytes.ts";
import { RateLimiter } from "./_rate_limit.ts";
import { RelayTable } from "./_relay_sessions.ts";
import { type RoomAnswer, RoomTable } from "./_rooms.ts";
import {
  DEFAULT_RENDEZVOUS_PORT,
  type ServeOptions,
  type ServerStats,
  validateServeOptions,
} from "./_serve_options.ts";
import {
  decodeMessage,
  encodeMessage,
  ErrorCode,
  isEncodableAddr,
  isRendezvousDatagram,
  MAX_DATAGRAM_SIZE,
  MAX_REPLY_SIZE,
  type ObservationMessage,
  type RelayHelloMessage,
  type RendezvousMessage,
} from "./protocol.ts";

export { DEFAULT_RENDEZVOUS_PORT };
export type { ServeOptions, ServerStats };

/** Which of the server's sockets a datagram came in on. */
type PortKind = "main" | "alt" | "relay";
type Outgoing = [data: Uint8Array, to: Deno.NetAddr];

/** Big enough for any UDP datagram over IPv4, so a relayed datagram is never cut. */
const RELAY_BUFFER_SIZE = 65_536;

export class RendezvousServer implements AsyncDisposable {
  /** The main port: `register`, `leave`, `observe`. */
  readonly addr: Deno.NetAddr;
  /** The alt port: `observe` only. */
  readonly altAddr: Deno.NetAddr;
  /** The relay port; absent with `relay: false`. */
  readonly relayAddr?: Deno.NetAddr;
  readonly #conns: Record<PortKind, Deno.DatagramConn | undefined>;
  readonly #rooms: RoomTable;
  readonly #relays?: RelayTable;
  readonly #limiter: RateLimiter;
  readonly #byPort: boolean;
  readonly #signal?: AbortSignal;
  readonly #onAbort = () => void this.close();
  readonly #loops: Promise<void>[];
  #closed = false;
  #counts = { received: 0, malformed: 0, rateLimited: 0, tooSmall: 0, replies: 0, errors: 0 };

  private constructor(
    conns: Record<PortKind, Deno.DatagramConn | undefined>,
    options: ServeOptions,
  ) {
    this.#conns = conns;
    this.addr = netAddr(conns.main!);
    this.altAddr = netAddr(conns.alt!);
    if (conns.relay) this.relayAddr = netAddr(conns.relay);
    const now = () => performance.now();
    if (conns.relay) {
      this.#relays = new RelayTable({
        maxSessions: options.relayMaxSessions,
        bytesPerSecond: options.relayBytesPerSecond,
        burstBytes: options.relayBurstBytes,
        maxBytes: options.relayMaxBytes,
        idleTimeoutMs: options.relayIdleTimeoutMs,
      }, now);
    }
    const relays = this.#relays;
    this.#rooms = new RoomTable({
      maxRooms: options.maxRooms,
      maxRoomsPerSource: options.maxRoomsPerSource,
      idleTimeoutMs: options.idleTimeoutMs,
      maxWaitMs: options.maxWaitMs,
      pairedLingerMs: options.pairedLingerMs,
      now,
      isHeld: (key) => relays?.alive(key) ?? false,
      onFree: (key) => relays?.remove(key),
    });
    this.#limiter = new RateLimiter({
      ratePerSecond: options.ratePerSecond ?? 50,
      burst: options.burst ?? 100,
      maxKeys: options.maxSources ?? 65_536,
      now,
    });
    this.#byPort = options.sourceKey === "ip-port";
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#loops = [this.#serve(conns.main!, "main"), this.#serve(conns.alt!, "alt")];
    if (conns.relay && relays) this.#loops.push(this.#relayLoop(conns.relay, relays));
  }

  /**
   * Binds the UDP sockets now and starts serving.
   * @throws {TypeError|RangeError} for bad options; the bind error when a port is taken;
   * `signal.reason` when already aborted.
   */
  static listen(options: ServeOptions = {}): RendezvousServer {
    options.signal?.throwIfAborted();
    validateServeOptions(options);
    const hostname = options.hostname ?? "0.0.0.0";
    const conns: Record<PortKind, Deno.DatagramConn | undefined> = {
      main: undefined,
      alt: undefined,
      relay: undefined,
    };
    try {
      conns.main = bind(hostname, options.port ?? DEFAULT_RENDEZVOUS_PORT, "rendezvous");
      conns.alt = bind(hostname, options.altPort ?? 0, "NAT check");
      if (options.relay !== false) conns.relay = bind(hostname, options.relayPort ?? 0, "relay");
      return new RendezvousServer(conns, options);
    } catch (error) {
      for (const conn of Object.values(conns)) conn?.close();
      throw error;
    }
  }

  stats(): ServerStats {
    return {
      ...this.#counts,
      rooms: this.#rooms.size,
      pairings: this.#rooms.pairings,
      sources: this.#limiter.size,
      relaySessions: this.#relays?.size ?? 0,
      relayedBytes: this.#relays?.relayedBytes ?? 0,
      relayDropped: this.#relays?.dropped ?? 0,
    };
  }

  /** Stops serving and releases the sockets. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#signal?.removeEventListener("abort", this.#onAbort);
      for (const conn of Object.values(this.#conns)) {
        try {
          conn?.close();
        } catch {
          // already closed
        }
      }
    }
    await Promise.all(this.#loops);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #serve(conn: Deno.DatagramConn, kind: PortKind): Promise<void> {
    // One byte more than the limit, so an oversized datagram shows as such.
    const buffer = new Uint8Array(MAX_DATAGRAM_SIZE + 1);
    while (!this.#closed) {
      const received = await this.#receive(conn, buffer);
      if (received === "closed") return;
      if (received === "failed") continue;
      const [data, from] = received;
      await this.#control(conn, data, from, kind);
    }
  }

  /** The next datagram; a receive error is counted, a closed socket ends the loop. */
  async #receive(
    conn: Deno.DatagramConn,
    buffer: Uint8Array,
  ): Promise<[Uint8Array, Deno.NetAddr] | "closed" | "failed"> {
    try {
      const [data, from] = await conn.receive(buffer);
      return [data, from as Deno.NetAddr];
    } catch (error) {
      if (this.#closed || error instanceof Deno.errors.BadResource) return "closed";
      this.#counts.errors++;
      return "failed";
    }
  }

  /**
   * The relay's hot loop: one reused buffer, one lookup, one send; rendezvous
   * datagrams (hellos) are handled, never forwarded.
   */
  async #relayLoop(conn: Deno.DatagramConn, relays: RelayTable): Promise<void> {
    const buffer = new Uint8Array(RELAY_BUFFER_SIZE);
    while (!this.#closed) {
      const received = await this.#receive(conn, buffer);
      if (received === "closed") return;
      if (received === "failed") continue;
      const [data, from] = received;
      if (isRendezvousDatagram(data)) {
        await this.#control(conn, data, from, "relay");
        continue;
      }
      const target = relays.forward(from.hostname, from.port, data.length);
      if (target === undefined) continue;
      try {
        await conn.send(data, target);
      } catch {
        if (this.#closed) return;
        this.#counts.errors++;
      }
    }
  }

  async #control(
    conn: Deno.DatagramConn,
    data: Uint8Array,
    from: Deno.NetAddr,
    kind: PortKind,
  ): Promise<void> {
    try {
      const replies = this.#handle(data, from, kind);
      if (replies === undefined) return;
      for (const [reply, to] of replies) {
        await conn.send(reply, to);
        this.#counts.replies++;
      }
    } catch (error) {
      if (this.#closed) return;
      if (error instanceof ProtocolError) this.#counts.malformed++;
      else this.#counts.errors++;
    }
  }

  /** Returns the replies to send, or undefined to drop. Throws ProtocolError for junk. */
  #handle(data: Uint8Array, from: Deno.NetAddr, kind: PortKind): Outgoing[] | undefined {
    this.#counts.received++;
    const source = this.#byPort ? `${from.hostname}:${from.port}` : from.hostname;
    if (!this.#limiter.allow(source)) {
      this.#counts.rateLimited++;
      return undefined;
    }
    if (!isEncodableAddr(from)) {
      throw new ProtocolError(`Cannot serve ${from.hostname}:${from.port}: only IPv4 is supported`);
    }
    const message = decodeMessage(data, { from });
    const misdirected = () =>
      new ProtocolError(
        `Cannot handle datagram from ${from.hostname}:${from.port}: ${message.type} on the ${kind} port`,
      );
    if (message.type === "leave") {
      if (kind !== "main") throw misdirected();
      this.#rooms.leave(message.clientId, message.nameplate);
      return undefined;
    }
    if (!["register", "observe", "relay-hello"].includes(message.type)) {
      throw new ProtocolError(
        `Cannot handle datagram from ${from.hostname}:${from.port}: ${message.type} is a reply`,
      );
    }
    // Check before touching any state: every answer to a request fits in MAX_REPLY_SIZE.
    if (data.length < MAX_REPLY_SIZE) {
      this.#counts.tooSmall++;
      return undefined;
    }
    let replies: Outgoing[];
    if (message.type === "observe" && kind !== "relay") {
      const observation: ObservationMessage = {
        type: "observation",
        clientId: message.clientId,
        observed: { transport: "udp", hostname: from.hostname, port: from.port },
        altPort: this.altAddr.port,
      };
      if (this.relayAddr) observation.relayPort = this.relayAddr.port;
      replies = [[encodeMessage(observation), from]];
    } else if (message.type === "register" && kind === "main") {
      const answer = this.#rooms.register(message, from, source);
      replies = [[encodeMessage(toMessage(message.clientId, answer)), from]];
    } else if (message.type === "relay-hello" && (kind === "relay" || !this.#relays)) {
      replies = this.#relayHello(message, from);
    } else {
      throw misdirected();
    }
    let size = 0;
    for (const [reply] of replies) size += reply.length;
    if (size > data.length) {
      this.#counts.tooSmall++;
      return undefined;
    }
    return replies;
  }

  #relayHello(message: RelayHelloMessage, from: Deno.NetAddr): Outgoing[] {
    const clientId = message.clientId;
    const error = (code: number): Outgoing[] => [[
      encodeMessage({ type: "error", clientId, code }),
      from,
    ]];
    if (!this.#relays) return error(ErrorCode.relayOff);
    const key = hex(message.token);
    const peers = this.#rooms.pairedPeers(key);
    if (peers === undefined) return error(ErrorCode.relayUnknown);
    const answer = this.#relays.hello(key, peers, clientId, from);
    switch (answer.kind) {
      case "error":
        return error(answer.code);
      case "waiting":
        return [[encodeMessage({ type: "relay-waiting", clientId }), from]];
      default: {
        const out: Outgoing[] = [[encodeMessage({ type: "relay-ready", clientId }), from]];
        // The other peer was waiting: tell it now rather than at its next hello.
        if (answer.notify) {
          out.push([
            encodeMessage({ type: "relay-ready", clientId: answer.notify.id }),
            answer.notify.addr,
          ]);
        }
        return out;
      }
    }
  }
}

/** Binds one UDP socket; a failure names the port and what it was for, keeping the error class. */
function bind(hostname: string, port: number, role: string): Deno.DatagramConn {
  try {
    return Deno.listenDatagram({ transport: "udp", hostname, port });
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const inUse = error instanceof Deno.errors.AddrInUse ? "is already in use" : "cannot be bound";
    const Class = error.constructor as new (message: string, options?: ErrorOptions) => Error;
    throw new Class(`UDP port ${port} on ${hostname} (${role}) ${inUse}: ${error.message}`, {
      cause: error,
    });
  }
}

function netAddr(conn: Deno.DatagramConn): Deno.NetAddr {
  const { hostname, port } = conn.addr as Deno.NetAddr;
  return { transport: "udp", hostname, port };
}

function toMessage(clientId: Uint8Array, answer: RoomAnswer): RendezvousMessage {
  switch (answer.kind) {
    case "waiting":
      return { type: "waiting", clientId, nameplate: answer.nameplate, observed: answer.observed };
    case "paired":
      return {
        type: "paired",
        clientId,
        nameplate: answer.nameplate,
        token: answer.token,
        observed: answer.observed,
        peer: answer.peer,
      };
    default:
      return answer.nameplate === undefined
        ? { type: "error", clientId, code: answer.code }
        : { type: "error", clientId, code: answer.code, nameplate: answer.nameplate };
  }
}
