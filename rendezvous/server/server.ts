/**
 * The rendezvous server: a main port (register, observe), an alt port
 * (observe only, for NAT mapping detection) and a relay port, on UDP; and on
 * TCP, the main port number (the same messages, framed) and the relay port
 * number (the TCP relay). Over UDP it only ever replies to requests, never
 * with more bytes than the request, answers a source that has not proven its
 * address with a cookie only, and drops (and counts) everything malformed,
 * oversized, too small for its reply, or over a proven source's rate limit.
 * The relays forward only between the two peers of a paired room that each
 * said a valid hello.
 */
import { type Awaitable, normalizeAddr, ProtocolError } from "../../base/mod.ts";
import {
  bindServerSockets,
  type BoundSockets,
  netAddr,
  type Received,
  receiveDatagram,
  TcpConnections,
} from "../sockets/mod.ts";
import { requestLoop } from "./_request_loop.ts";
import { sourceKey } from "./_source_key.ts";
import { Admission } from "./_admission.ts";
import * as req from "./_requests.ts";
import type { PortKind, RequestMessage } from "./_requests.ts";
import { type Outgoing, relayLoop, RelayTable, TcpRelay } from "../relay/mod.ts";
import { openRoomStore } from "./_open_store.ts";
import { RoomRequests } from "./_room_requests.ts";
import type { RoomStore } from "../store/mod.ts";
import {
  admissionLimits,
  DEFAULT_RENDEZVOUS_PORT,
  emptyCounts,
  relayLimits,
  roomLimits,
  type ServeOptions,
  serverPorts,
  type ServerStats,
  validateServeOptions,
} from "./_serve_options.ts";
import { metricsText } from "./_metrics.ts";
import { serveTcpRendezvous, type TcpClient } from "./_tcp_rendezvous.ts";
import { decodeMessage, isEncodableAddr, MAX_REPLY_SIZE } from "../wire/mod.ts";

export { DEFAULT_RENDEZVOUS_PORT };
export type { ServeOptions, ServerStats };

export class RendezvousServer implements AsyncDisposable {
  /** The main port: `register`, `leave`, `observe`. */
  readonly addr: Deno.NetAddr;
  /** The alt port: `observe` only. */
  readonly altAddr: Deno.NetAddr;
  /** The relay port; absent with `relay: false`. */
  readonly relayAddr?: Deno.NetAddr;
  /** Whether the server also listens on TCP (main and relay port numbers). */
  readonly tcp: boolean;
  /** Where rooms live: `memory`, or the shared store's Redis URL. */
  readonly store: string;
  readonly #conns: Record<PortKind, Deno.DatagramConn | undefined>;
  readonly #store: RoomStore;
  readonly #requests: RoomRequests;
  readonly #relays?: RelayTable;
  readonly #tcpConns?: TcpConnections;
  readonly #tcpRelay?: TcpRelay;
  readonly #admission: Admission;
  /**
   * Whether the cookie secret is settled: `ServeOptions.cookieSecret` was
   * given, or the shared store's was read (once: swapping it later would void
   * every cookie out there).
   */
  #secretSettled: boolean;
  readonly #byPort: boolean;
  readonly #signal?: AbortSignal;
  readonly #onAbort = () => void this.close();
  /** One handler for every reply's send (not a closure per datagram). */
  readonly #sendFailed = () => this.#closed || this.#counts.errors++;
  readonly #loops: Promise<void>[];
  #closed = false;
  #counts = emptyCounts();

  private constructor(sockets: BoundSockets, options: ServeOptions) {
    const conns = { main: sockets.main, alt: sockets.alt, relay: sockets.relay };
    this.#conns = conns;
    this.tcp = sockets.mainTcp !== undefined;
    this.addr = netAddr(conns.main!);
    this.altAddr = netAddr(conns.alt!);
    if (conns.relay) this.relayAddr = netAddr(conns.relay);
    const now = () => performance.now();
    if (conns.relay) this.#relays = new RelayTable(relayLimits(options), now);
    this.#byPort = options.sourceKey === "ip-port";
    if (sockets.relayTcp) {
      this.#tcpRelay = new TcpRelay({
        ...relayLimits(options),
        maxChannels: options.relayMaxChannels,
        peerWaitMs: options.relayPeerWaitMs,
        readTimeoutMs: options.tcpReadTimeoutMs,
      }, {
        pairedPeers: (key) => this.#store.pairedPeers(key),
        onMalformed: () => this.#counts.malformed++,
        capEndedElsewhere: (key) => this.#relays?.capEnded(key),
      });
    }
    const relays = this.#relays;
    const tcpRelay = this.#tcpRelay;
    this.#store = openRoomStore({
      store: options.store,
      limits: roomLimits(options),
      relay: this.relayAddr &&
        { ...this.relayAddr, hostname: options.publicAddress ?? this.addr.hostname },
      isHeld: (key) => (relays?.alive(key) ?? false) || (tcpRelay?.alive(key) ?? false),
      onFree: (key) => {
        relays?.remove(key);
        tcpRelay?.remove(key);
      },
    });
    this.#requests = new RoomRequests(this.#store, {
      limits: roomLimits(options),
      now,
      sendUdp: (data, to) => void this.#conns.main!.send(data, to).catch(this.#sendFailed),
    });
    this.store = this.#store.name;
    this.#secretSettled = options.cookieSecret !== undefined;
    this.#admission = new Admission({
      ...admissionLimits(options),
      cookieSecret: options.cookieSecret ?? crypto.getRandomValues(new Uint8Array(32)),
      ipKey: (from) => this.#sourceOf(from),
      now,
      wallClock: Date.now,
    });
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#loops = (["main", "alt"] as const).map((kind) =>
      requestLoop(conns[kind]!, {
        control: (data, from) => this.#control(conns[kind]!, data, from, kind),
        closed: () => this.#closed,
        onError: () => this.#counts.errors++,
      })
    );
    const relay = conns.relay;
    if (relay && relays) {
      this.#loops.push(relayLoop(relay, relays, {
        receive: (buffer) => this.#receive(relay, buffer),
        control: (data, from) => Promise.resolve(this.#control(relay, data, from, "relay")),
        closed: () => this.#closed,
        onError: () => this.#counts.errors++,
      }));
    }
    if (sockets.mainTcp) {
      const tcpConns = this.#tcpConns = new TcpConnections({
        maxConnections: options.tcpMaxConnections,
        maxConnectionsPerSource: options.tcpMaxConnectionsPerSource,
        idleTimeoutMs: options.tcpIdleTimeoutMs,
        readTimeoutMs: options.tcpReadTimeoutMs,
        firstFrameTimeoutMs: options.tcpFirstFrameTimeoutMs,
      }, (addr) => this.#sourceOf(addr));
      tcpConns.serve(sockets.mainTcp, (conn, prove) =>
        serveTcpRendezvous(conn, {
          limits: tcpConns.limits,
          handle: (data, client) => this.#handleTcp(data, client),
          onRequest: prove,
          onClose: (client) => this.#requests.tcpClosed(client),
          onMalformed: () => this.#counts.malformed++,
        }));
      if (sockets.relayTcp && tcpRelay) {
        tcpConns.serve(sockets.relayTcp, (conn, prove) => tcpRelay.handle(conn, prove));
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
    const sockets = bindServerSockets(options.hostname, serverPorts(options));
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
      replies: this.#counts.replies + this.#requests.pushed,
      pushed: this.#requests.pushed,
      storeUnavailable: this.#requests.storeUnavailable,
      errors: this.#counts.errors + (this.#tcpConns?.errors ?? 0),
      rooms: this.#store.size,
      pairings: this.#store.pairings,
      storeRoundTrips: this.#store.roundTrips,
      storeErrors: this.#store.errors,
      sources: this.#admission.sources,
      relaySessions: this.#relays?.size ?? 0,
      relayedBytes: this.#relays?.relayedBytes ?? 0,
      relayDropped: this.#relays?.dropped ?? 0,
      tcpConnections: this.#tcpConns?.size ?? 0,
      tcpRefused: this.#tcpConns?.refused ?? 0,
      tcpEvicted: this.#tcpConns?.evicted ?? 0,
      tcpRelaySessions: this.#tcpRelay?.sessions ?? 0,
      tcpRelayChannels: this.#tcpRelay?.channels ?? 0,
      tcpRelayedBytes: this.#tcpRelay?.relayedBytes ?? 0,
    };
  }

  /** Statistics as Prometheus text, with the shared store's room count fetched now. */
  async metrics(): Promise<string> {
    await this.#store.rooms().catch(() => {});
    return metricsText(this.stats(), this.#store.name, this.#store.latency);
  }

  /**
   * Resolves once the room store answers; on a shared store without
   * `cookieSecret`, the instances' shared cookie secret is in use from the
   * first such call on.
   * @throws {StoreUnavailableError} if `signal` aborts first, or the store fails.
   */
  async ready(signal?: AbortSignal): Promise<void> {
    await this.#store.ready(signal);
    if (this.#secretSettled) return;
    const secret = await this.#store.cookieSecret();
    if (secret !== undefined) this.#admission.useSecret(secret);
    this.#secretSettled = true;
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
    await this.#store.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The next datagram; a receive error is counted, a closed socket ends the loop. */
  async #receive(conn: Deno.DatagramConn, buffer: Uint8Array): Promise<Received> {
    const received = await receiveDatagram(conn, buffer, () => this.#closed);
    if (received === "failed") this.#counts.errors++;
    return received;
  }

  /** Answers one datagram; a promise only while the answer waits on the store. */
  #control(
    conn: Deno.DatagramConn,
    data: Uint8Array,
    from: Deno.NetAddr,
    kind: PortKind,
  ): Promise<void> | undefined {
    this.#counts.udpRequestBytes += data.length;
    let replies;
    try {
      replies = this.#handle(data, from, kind);
    } catch (error) {
      return this.#failed(error);
    }
    if (!(replies instanceof Promise)) return this.#send(conn, replies);
    return replies.then((replies) => this.#send(conn, replies), (error) => this.#failed(error));
  }

  #send(conn: Deno.DatagramConn, replies: Outgoing[] | undefined): undefined {
    if (replies === undefined) return;
    for (const [reply, to] of replies) {
      // Not awaited: the socket loop takes the next datagram while the reply goes out.
      conn.send(reply, to).catch(this.#sendFailed);
      this.#counts.replies++;
      this.#counts.udpReplyBytes += reply.length;
    }
  }

  #failed(error: unknown): undefined {
    if (this.#closed) return;
    if (error instanceof ProtocolError) this.#counts.malformed++;
    else this.#counts.errors++;
  }

  /**
   * Returns the replies to send, or undefined to drop; at once unless the
   * store has to be waited on. Throws ProtocolError for junk. `tcp`: the
   * request came framed on this TCP connection.
   */
  #handle(
    data: Uint8Array,
    from: Deno.NetAddr,
    kind: PortKind,
    tcp?: TcpClient,
  ): Awaitable<Outgoing[] | undefined> {
    this.#counts.received++;
    if (!isEncodableAddr(from)) {
      throw new ProtocolError(
        `Cannot serve ${from.hostname}:${from.port}: not an address the protocol can carry`,
      );
    }
    const message = decodeMessage(data, { from });
    const request = req.takenRequest(message, kind, { tcp: !!tcp, relays: !!this.#relays }, from);
    const answerable = request.type !== "leave";
    // Check before touching any state: every answer to a request fits in MAX_REPLY_SIZE.
    // (Over TCP the handshake proved the source address: nothing can be reflected.)
    if (!tcp && answerable && data.length < MAX_REPLY_SIZE) {
      this.#counts.tooSmall++;
      return undefined;
    }
    const cookie = request.type === "tcp-relay-hello" ? undefined : request.cookie;
    const verdict = this.#admission.admit(cookie, from, { answerable, tcp: tcp !== undefined });
    if (verdict.kind === "unproven" || verdict.kind === "rateLimited") {
      this.#counts[verdict.kind]++;
      return undefined;
    }
    if (verdict.kind === "cookie") {
      this.#counts.cookies++;
      return [[req.cookieAnswer(request.clientId, verdict.cookie), from]];
    }
    const requestBytes = data.length;
    const replies = this.#act(request, from, { tcp, requestBytes });
    if (replies instanceof Promise) return replies.then((r) => this.#bounded(r, requestBytes, tcp));
    return this.#bounded(replies, requestBytes, tcp);
  }

  /** `replies`, or undefined when over UDP they hold more bytes than the request (counted). */
  #bounded(replies: Outgoing[], requestBytes: number, tcp?: TcpClient): Outgoing[] | undefined {
    let size = 0;
    for (const [reply] of replies) size += reply.length;
    if (tcp || size <= requestBytes) return replies;
    this.#counts.tooSmall++;
    return undefined;
  }

  /** Carries out an admitted request; returns the replies, at once unless the store is waited on. */
  #act(
    request: RequestMessage,
    from: Deno.NetAddr,
    transport: { tcp?: TcpClient; requestBytes: number },
  ): Awaitable<Outgoing[]> {
    switch (request.type) {
      case "leave":
        return this.#requests.leave(request).then(() => []);
      case "observe":
        return [[req.observation(request.clientId, from, this.altAddr, this.relayAddr), from]];
      case "register":
        return this.#requests.register(request, from, this.#sourceOf(from), transport);
      case "relay-hello":
        return this.#requests.relayHello(this.#relays, request, from);
      case "tcp-relay-hello": // only on a server without a relay (see `refusal`)
        return [[req.relayOff(request.clientId), from]];
    }
  }

  /** One framed request on a TCP connection to the main port: the same rules as UDP. */
  async #handleTcp(data: Uint8Array, client: TcpClient): Promise<Uint8Array[] | undefined> {
    try {
      return (await this.#handle(data, client.remote, "main", client))?.map(([reply]) => reply);
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      this.#counts.errors++;
      return undefined;
    }
  }

  #sourceOf(addr: Deno.NetAddr): string {
    return sourceKey(normalizeAddr(addr), this.#byPort);
  }
}
