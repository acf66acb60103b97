/**
 * The rendezvous server: a main port (register, observe), an alt port
 * (observe only, for NAT mapping detection) and a relay port, on UDP; and on
 * TCP, the main port number (the same messages, framed) and the relay port
 * number (the TCP relay). Over UDP it only ever replies to requests (and
 * pushes one `paired` per pairing to a waiting sender), never with more bytes
 * than the request it answers, and drops (and counts) everything
 * malformed, oversized, too small for its reply, or over a source's rate
 * limit. The relays forward only between the two peers of a paired room that
 * each said a valid hello.
 */
import { ProtocolError } from "../errors.ts";
import { toHex as hex } from "../bytes.ts";
import { bindSockets, type BoundSockets } from "./_bind.ts";
import { RateLimiter } from "./_rate_limit.ts";
import { type Outgoing, relayHelloReplies, RelayTable } from "./_relay_sessions.ts";
import { answerMessage, RoomTable } from "./_rooms.ts";
import {
  DEFAULT_RENDEZVOUS_PORT,
  relayLimits,
  roomLimits,
  type ServeOptions,
  type ServerStats,
  validateServeOptions,
} from "./_serve_options.ts";
import { TcpConnections } from "./_tcp_connections.ts";
import { TcpRelay } from "./_tcp_relay.ts";
import { UdpSenders } from "./_udp_senders.ts";
import { serveTcpRendezvous, type TcpClient, type TcpSender } from "./_tcp_rendezvous.ts";
import {
  decodeMessage,
  encodeMessage,
  ErrorCode,
  isEncodableAddr,
  isRendezvousDatagram,
  MAX_DATAGRAM_SIZE,
  MAX_REPLY_SIZE,
  type ObservationMessage,
} from "./protocol.ts";

export { DEFAULT_RENDEZVOUS_PORT };
export type { ServeOptions, ServerStats };

/** Which of the server's sockets a datagram came in on. */
type PortKind = "main" | "alt" | "relay";

/** Big enough for any UDP datagram over IPv4, so a relayed datagram is never cut. */
const RELAY_BUFFER_SIZE = 65_536;

export class RendezvousServer implements AsyncDisposable {
  /** The main port: `register`, `leave`, `observe`. */
  readonly addr: Deno.NetAddr;
  /** The alt port: `observe` only. */
  readonly altAddr: Deno.NetAddr;
  /** The relay port; absent with `relay: false`. */
  readonly relayAddr?: Deno.NetAddr;
  /** Whether the server also listens on TCP (main and relay port numbers). */
  readonly tcp: boolean;
  readonly #conns: Record<PortKind, Deno.DatagramConn | undefined>;
  readonly #rooms: RoomTable;
  readonly #relays?: RelayTable;
  readonly #tcpConns?: TcpConnections;
  readonly #tcpRelay?: TcpRelay;
  /** Waiting senders on TCP, by client id (hex). */
  readonly #tcpSenders = new Map<string, TcpSender>();
  readonly #udpSenders: UdpSenders;
  readonly #limiter: RateLimiter;
  readonly #byPort: boolean;
  readonly #signal?: AbortSignal;
  readonly #onAbort = () => void this.close();
  readonly #loops: Promise<void>[];
  #closed = false;
  #counts = {
    received: 0,
    malformed: 0,
    rateLimited: 0,
    tooSmall: 0,
    replies: 0,
    pushed: 0,
    errors: 0,
  };

  private constructor(sockets: BoundSockets, options: ServeOptions) {
    const conns = { main: sockets.main, alt: sockets.alt, relay: sockets.relay };
    this.#conns = conns;
    this.tcp = sockets.mainTcp !== undefined;
    this.addr = netAddr(conns.main!);
    this.altAddr = netAddr(conns.alt!);
    if (conns.relay) this.relayAddr = netAddr(conns.relay);
    const now = () => performance.now();
    if (conns.relay) {
      this.#relays = new RelayTable(relayLimits(options), now);
    }
    this.#byPort = options.sourceKey === "ip-port";
    if (sockets.relayTcp) {
      this.#tcpRelay = new TcpRelay({
        ...relayLimits(options),
        maxChannels: options.relayMaxChannels,
        peerWaitMs: options.relayPeerWaitMs,
        readTimeoutMs: options.tcpReadTimeoutMs,
      }, {
        pairedPeers: (key) => this.#rooms.pairedPeers(key),
        onMalformed: () => this.#counts.malformed++,
      });
    }
    const relays = this.#relays;
    const tcpRelay = this.#tcpRelay;
    const limits = roomLimits(options);
    this.#udpSenders = new UdpSenders(limits, now);
    this.#rooms = new RoomTable({
      ...limits,
      now,
      isHeld: (key) => (relays?.alive(key) ?? false) || (tcpRelay?.alive(key) ?? false),
      onFree: (key) => {
        relays?.remove(key);
        tcpRelay?.remove(key);
      },
    });
    this.#limiter = new RateLimiter({
      ratePerSecond: options.ratePerSecond ?? 50,
      burst: options.burst ?? 100,
      maxKeys: options.maxSources ?? 65_536,
      now,
    });
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#loops = [this.#serve(conns.main!, "main"), this.#serve(conns.alt!, "alt")];
    if (conns.relay && relays) this.#loops.push(this.#relayLoop(conns.relay, relays));
    if (sockets.mainTcp) {
      const tcpConns = this.#tcpConns = new TcpConnections({
        maxConnections: options.tcpMaxConnections,
        maxConnectionsPerSource: options.tcpMaxConnectionsPerSource,
        idleTimeoutMs: options.tcpIdleTimeoutMs,
        readTimeoutMs: options.tcpReadTimeoutMs,
      }, (addr) => this.#sourceOf(addr));
      tcpConns.serve(sockets.mainTcp, (conn) =>
        serveTcpRendezvous(conn, {
          limits: tcpConns.limits,
          handle: (data, client) => this.#handleTcp(data, client),
          onClose: (client) => this.#tcpClosed(client),
          onMalformed: () => this.#counts.malformed++,
        }));
      if (sockets.relayTcp && tcpRelay) {
        tcpConns.serve(sockets.relayTcp, (conn) => tcpRelay.handle(conn));
      }
    }
  }

  /**
   * Binds the sockets now and starts serving.
   * @throws {TypeError|RangeError} for bad options; the bind error when a port is taken;
   * `signal.reason` when already aborted.
   */
  static listen(options: ServeOptions = {}): RendezvousServer {
    options.signal?.throwIfAborted();
    validateServeOptions(options);
    const sockets = bindSockets(options.hostname ?? "0.0.0.0", {
      port: options.port ?? DEFAULT_RENDEZVOUS_PORT,
      altPort: options.altPort ?? 0,
      relayPort: options.relayPort ?? 0,
      relay: options.relay !== false,
      tcp: options.tcp !== false,
    });
    try {
      return new RendezvousServer(sockets, options);
    } catch (error) {
      for (const socket of Object.values(sockets)) socket?.close();
      throw error;
    }
  }

  stats(): ServerStats {
    return {
      ...this.#counts,
      errors: this.#counts.errors + (this.#tcpConns?.errors ?? 0),
      rooms: this.#rooms.size,
      pairings: this.#rooms.pairings,
      sources: this.#limiter.size,
      relaySessions: this.#relays?.size ?? 0,
      relayedBytes: this.#relays?.relayedBytes ?? 0,
      relayDropped: this.#relays?.dropped ?? 0,
      tcpConnections: this.#tcpConns?.size ?? 0,
      tcpRefused: this.#tcpConns?.refused ?? 0,
      tcpRelaySessions: this.#tcpRelay?.sessions ?? 0,
      tcpRelayChannels: this.#tcpRelay?.channels ?? 0,
      tcpRelayedBytes: this.#tcpRelay?.relayedBytes ?? 0,
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
      this.#tcpRelay?.close();
    }
    await Promise.all([...this.#loops, this.#tcpConns?.close()]);
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

  /**
   * Returns the replies to send, or undefined to drop. Throws ProtocolError
   * for junk. `tcp`: the request came framed on this TCP connection.
   */
  #handle(
    data: Uint8Array,
    from: Deno.NetAddr,
    kind: PortKind,
    tcp?: TcpClient,
  ): Outgoing[] | undefined {
    this.#counts.received++;
    const source = this.#sourceOf(from);
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
      this.#udpSenders.forget(message.clientId);
      return undefined;
    }
    if (!["register", "observe", "relay-hello", "tcp-relay-hello"].includes(message.type)) {
      throw new ProtocolError(
        `Cannot handle datagram from ${from.hostname}:${from.port}: ${message.type} is a reply`,
      );
    }
    // Check before touching any state: every answer to a request fits in MAX_REPLY_SIZE.
    // (Over TCP the handshake proved the source address: nothing can be reflected.)
    if (!tcp && data.length < MAX_REPLY_SIZE) {
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
      const answer = this.#rooms.register(message, from, source, tcp ? "tcp" : "udp");
      replies = [[encodeMessage(answerMessage(message.clientId, answer)), from]];
      if (tcp && message.role === "send" && answer.kind === "waiting") {
        this.#tcpSenders.set(hex(message.clientId), {
          client: tcp,
          message,
          source,
          nameplate: answer.nameplate,
        });
      }
      if (!tcp && message.role === "send" && answer.kind === "waiting") {
        this.#udpSenders.remember({ message, from, source, requestBytes: data.length });
      }
      if (answer.kind === "paired" && message.role === "receive") this.#pushPaired(answer.peer.id);
    } else if (message.type === "relay-hello" && (kind === "relay" || !this.#relays)) {
      const key = hex(message.token);
      const peers = this.#rooms.pairedPeers(key);
      replies = relayHelloReplies(this.#relays, key, peers, message, from);
    } else if (message.type === "tcp-relay-hello" && tcp && !this.#relays) {
      const error = {
        type: "error",
        clientId: message.clientId,
        code: ErrorCode.relayOff,
      } as const;
      replies = [[encodeMessage(error), from]];
    } else {
      throw misdirected();
    }
    let size = 0;
    for (const [reply] of replies) size += reply.length;
    if (!tcp && size > data.length) {
      this.#counts.tooSmall++;
      return undefined;
    }
    return replies;
  }

  /** One framed request on a TCP connection to the main port: the same rules as UDP. */
  #handleTcp(data: Uint8Array, client: TcpClient): Uint8Array[] | undefined {
    try {
      return this.#handle(data, client.remote, "main", client)?.map(([reply]) => reply);
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      this.#counts.errors++;
      return undefined;
    }
  }

  /** A waiting sender's receiver just came: tell the sender now (UDP or TCP), not at its next poll. */
  #pushPaired(senderId: Uint8Array): void {
    const udp = this.#udpSenders.take(senderId);
    if (udp !== undefined) {
      const answer = this.#rooms.register(udp.message, udp.from, udp.source, "udp");
      const reply = encodeMessage(answerMessage(senderId, answer));
      if (answer.kind === "paired" && reply.length <= udp.requestBytes) {
        this.#counts.pushed++;
        this.#conns.main!.send(reply, udp.from).catch(() => this.#counts.errors++);
      }
    }
    const key = hex(senderId);
    const waiting = this.#tcpSenders.get(key);
    if (waiting === undefined) return;
    this.#tcpSenders.delete(key);
    const answer = this.#rooms.register(
      waiting.message,
      waiting.client.remote,
      waiting.source,
      "tcp",
    );
    waiting.client.push(encodeMessage(answerMessage(senderId, answer)));
    this.#counts.pushed++;
  }

  /** A TCP connection ended: a sender still waiting on it gives its room up, as with `leave`. */
  #tcpClosed(client: TcpClient): void {
    for (const [key, waiting] of this.#tcpSenders) {
      if (waiting.client !== client) continue;
      this.#tcpSenders.delete(key);
      this.#rooms.leave(waiting.message.clientId, waiting.nameplate);
    }
  }

  #sourceOf(addr: Deno.NetAddr): string {
    return this.#byPort ? `${addr.hostname}:${addr.port}` : addr.hostname;
  }
}

function netAddr(conn: Deno.DatagramConn): Deno.NetAddr {
  const { hostname, port } = conn.addr as Deno.NetAddr;
  return { transport: "udp", hostname, port };
}
