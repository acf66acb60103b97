/**
 * The TCP relay: each peer connects once per channel and says one framed
 * `tcp-relay-hello`; when both peers of a paired room said hello for the same
 * channel, each gets a framed `relay-ready` and the two sockets are spliced
 * byte for byte. Limits per room (a "session"): a token bucket shared by all
 * its channels and both directions, applied by pausing reads, and a byte cap
 * (both only when the operator set them); an idle timeout; a cap on channels.
 * Sessions are capped in number.
 *
 *   channel: (none) --first hello--> waiting --other peer's hello--> spliced --either side closes--> (none)
 *            waiting --peerWaitMs--> (none)
 *   session: live --idle / byte cap / room freed--> ended (later hellos: error 11, or 14 with the byte cap)
 */
import {
  ConnectionLostError,
  equalBytes,
  pipeConn,
  ProtocolError,
  toHex,
  writeAll,
} from "../../base/mod.ts";
import {
  DEFAULT_RELAY_LIMITS,
  endedError,
  type EndReason,
  mergeRelayLimits,
  relayBucket,
  type RelayLimits,
} from "./_relay_sessions.ts";
import type { TokenBucket } from "./_token_bucket.ts";
import { decodeMessage, encodeFrame, encodeMessage, ErrorCode, readFrame } from "../wire/mod.ts";
import { closeQuietly, Deadline } from "../sockets/mod.ts";

export interface TcpRelayLimits extends RelayLimits {
  /** Most channels (waiting or spliced) one room may hold at once. */
  maxChannels: number;
  /** How long a hello waits for the other peer's hello on the same channel. */
  peerWaitMs: number;
  /** The hello must arrive whole within this long of the connection. */
  readTimeoutMs: number;
}

export const DEFAULT_TCP_RELAY_LIMITS: TcpRelayLimits = {
  ...DEFAULT_RELAY_LIMITS,
  maxChannels: 32,
  peerWaitMs: 10_000,
  readTimeoutMs: 5_000,
};

export interface TcpRelayDeps {
  /** The client ids of the live paired room with this token (hex), or undefined. */
  pairedPeers: (key: string) => Promise<[Uint8Array, Uint8Array] | undefined>;
  /** Called for a connection whose first frame is junk or not a `tcp-relay-hello`. */
  onMalformed: () => void;
  /** The UDP relay's answer for room `key` when its byte cap ended that session (for a peer asking why). */
  capEndedElsewhere?: (key: string) => { code: number; limit?: number } | undefined;
}

/**
 * One read's worth, per direction of a spliced channel (two buffers per
 * direction, so one is read into while the other is written): 64 KiB, grown
 * to 256 KiB while reads fill them. A bulk copy then makes a quarter of the
 * calls (bench/tcp_relay.ts, 1 GiB, same runs, load 6-7: relay 0.81 CPU s/GiB
 * at 64 KiB, 0.67-0.68 at 256 KiB), while quiet channels (control, PAKE) keep
 * 64 KiB. At the default cap of 1024 TCP connections that is 128 MiB, and
 * 512 MiB if every one of them carries bulk data at once. A 1 MiB maximum cut
 * bench/tcp_relay.ts's relay CPU again (0.52-0.71 → 0.42-0.48 s/GiB, 3 runs
 * each interleaved, load 12) but not a relayed GiB's through the CLI (985
 * against 995 ms of the server's CPU, 4 runs each interleaved, load 10): the
 * peers' data streams seldom have 256 KiB waiting at a read, so it would cost
 * 4 times the memory for nothing measurable.
 */
const BUFFER_SIZE = 64 * 1024;
const MAX_BUFFER_SIZE = 256 * 1024;

interface Channel {
  readonly number: number;
  readonly conns: [Deno.TcpConn | undefined, Deno.TcpConn | undefined];
  readonly done: PromiseWithResolvers<void>;
  waitTimer?: ReturnType<typeof setTimeout>;
  spliced: boolean;
  closed: boolean;
  /** Directions whose source ended cleanly (2: the channel is done). */
  finished: number;
}

interface Session {
  readonly channels: Map<number, Channel>;
  readonly stop: AbortController;
  /** Undefined when the rate is not capped. */
  readonly bucket: TokenBucket | undefined;
  bytes: number;
  lastActive: number;
  ended?: EndReason;
  /** When it ended: its peers may still ask why for `idleTimeoutMs`. */
  endedAt: number;
  idleTimer?: ReturnType<typeof setTimeout>;
}

export class TcpRelay {
  readonly limits: TcpRelayLimits;
  /** Bytes spliced since start (both directions). */
  relayedBytes = 0;
  readonly #deps: TcpRelayDeps;
  readonly #sessions = new Map<string, Session>();
  #live = 0;
  #channels = 0;

  constructor(limits: Partial<TcpRelayLimits>, deps: TcpRelayDeps) {
    this.limits = mergeRelayLimits(DEFAULT_TCP_RELAY_LIMITS, limits);
    this.#deps = deps;
  }

  /** Live (not ended) sessions. */
  get sessions(): number {
    return this.#live;
  }

  /** Channels waiting or spliced now. */
  get channels(): number {
    return this.#channels;
  }

  /**
   * Whether room `key` has a live TCP session, or one that a cap ended less
   * than `idleTimeoutMs` ago (so its peers can still ask why): either keeps
   * the room's token valid.
   */
  alive(key: string): boolean {
    const session = this.#sessions.get(key);
    if (session === undefined) return false;
    const now = performance.now();
    if (session.ended) {
      return session.ended === "bytes" && now - session.endedAt < this.limits.idleTimeoutMs;
    }
    return session.channels.size > 0 || now - session.lastActive < this.limits.idleTimeoutMs;
  }

  /** Ends and forgets room `key`'s session (its room was freed). */
  remove(key: string): void {
    const session = this.#sessions.get(key);
    if (session === undefined) return;
    this.#end(session, "idle");
    this.#sessions.delete(key);
  }

  /** Ends every session, closing every relay connection. */
  close(): void {
    for (const key of [...this.#sessions.keys()]) this.remove(key);
  }

  /**
   * The whole life of one connection to the relay port: hello, wait, splice.
   * `onAccepted` is called once its hello is taken (a live pairing's peer, a free channel).
   */
  async handle(conn: Deno.TcpConn, onAccepted?: () => void): Promise<void> {
    const { hostname, port } = conn.remoteAddr as Deno.NetAddr;
    let message;
    {
      using deadline = new Deadline(conn);
      deadline.arm(this.limits.readTimeoutMs);
      try {
        const frame = await readFrame(conn, { peer: `TCP relay client ${hostname}:${port}` });
        if (frame === null) return;
        message = decodeMessage(frame, { from: { transport: "tcp", hostname, port } });
      } catch (error) {
        if (error instanceof ProtocolError) return this.#deps.onMalformed();
        if (error instanceof ConnectionLostError) return;
        throw error;
      }
    }
    if (message.type !== "tcp-relay-hello") return this.#deps.onMalformed();
    const clientId = message.clientId;
    const refuse = (code: number, limit?: number) =>
      writeAll(
        conn,
        encodeFrame(encodeMessage({ type: "error", clientId, code, ...(limit ? { limit } : {}) })),
      ).catch(() => {});
    const key = toHex(message.token);
    let peers: [Uint8Array, Uint8Array] | undefined;
    try {
      peers = await this.#deps.pairedPeers(key);
    } catch {
      return refuse(ErrorCode.storeUnavailable);
    }
    const index = peers === undefined
      ? undefined
      : equalBytes(peers[0], clientId)
      ? 0
      : equalBytes(peers[1], clientId)
      ? 1
      : undefined;
    if (peers === undefined || index === undefined) return refuse(ErrorCode.relayUnknown);
    const elsewhere = this.#sessions.has(key) ? undefined : this.#deps.capEndedElsewhere?.(key);
    if (elsewhere) return refuse(elsewhere.code, elsewhere.limit);
    const session = this.#session(key);
    if ("code" in session) return refuse(session.code, session.limit);
    let channel = session.channels.get(message.channel);
    if (channel === undefined) {
      if (session.channels.size >= this.limits.maxChannels) {
        return refuse(ErrorCode.relayChannels);
      }
      channel = {
        number: message.channel,
        conns: [undefined, undefined],
        done: Promise.withResolvers(),
        spliced: false,
        closed: false,
        finished: 0,
      };
      session.channels.set(channel.number, channel);
      this.#channels++;
    } else if (channel.conns[index] !== undefined) {
      return refuse(ErrorCode.relayChannels); // this peer already holds this channel
    }
    session.lastActive = performance.now();
    channel.conns[index] = conn;
    onAccepted?.();
    const other = channel.conns[1 - index];
    if (other === undefined) {
      const waiting = channel;
      waiting.waitTimer = setTimeout(
        () => this.#closeChannel(session, waiting),
        this.limits.peerWaitMs,
      );
    } else {
      await this.#splice(session, channel, [other, peers[1 - index]], [conn, clientId]);
    }
    await channel.done.promise;
  }

  async #splice(
    session: Session,
    channel: Channel,
    a: [Deno.TcpConn, Uint8Array],
    b: [Deno.TcpConn, Uint8Array],
  ): Promise<void> {
    clearTimeout(channel.waitTimer);
    channel.spliced = true;
    try {
      await Promise.all(
        [a, b].map(([conn, clientId]) =>
          writeAll(conn, encodeFrame(encodeMessage({ type: "relay-ready", clientId })))
        ),
      );
    } catch {
      return this.#closeChannel(session, channel);
    }
    await Promise.all([
      this.#pump(session, channel, a[0], b[0]),
      this.#pump(session, channel, b[0], a[0]),
    ]);
  }

  /**
   * Copies `from` → `to` (`pipeConn`: the next read runs while the last
   * chunk is written). The end of `from` (a FIN) is passed on as a FIN to
   * `to`, as any TCP proxy does: the other direction may still carry the
   * reply. A reset or failure on either socket, the session ending, or both
   * directions done closes both sockets at once.
   */
  async #pump(session: Session, channel: Channel, from: Deno.TcpConn, to: Deno.TcpConn) {
    try {
      const ended = await pipeConn(from, to, {
        bufferSize: BUFFER_SIZE,
        maxBufferSize: MAX_BUFFER_SIZE,
        onChunk: (length) => this.#admit(session, length),
      });
      if (ended && !session.ended && ++channel.finished < 2) return;
    } catch {
      // A reset or a closed socket on either side: the channel is over.
    }
    this.#closeChannel(session, channel);
  }

  /**
   * Counts `length` read bytes against the session's caps: false once it
   * ended (now, at its byte cap, or before); over the rate, a pause until
   * the debt is paid (reads stop, and TCP flow control slows the sender).
   */
  #admit(session: Session, length: number): boolean | Promise<void> {
    if (session.ended) return false;
    if (session.bytes + length > this.limits.maxBytes) {
      this.#end(session, "bytes");
      return false;
    }
    const now = performance.now();
    session.bytes += length;
    this.relayedBytes += length;
    session.lastActive = now;
    const wait = session.bucket?.spend(length, now) ?? 0;
    return wait > 0 ? pause(wait, session.stop.signal) : true;
  }

  /** The live session of room `key`, made if needed, or the error to answer. */
  #session(key: string): Session | { code: number; limit?: number } {
    let session = this.#sessions.get(key);
    if (session === undefined) {
      if (this.#live >= this.limits.maxSessions) return { code: ErrorCode.relayFull };
      const now = performance.now();
      session = {
        channels: new Map(),
        stop: new AbortController(),
        bucket: relayBucket(this.limits, now),
        bytes: 0,
        lastActive: now,
        endedAt: 0,
      };
      this.#sessions.set(key, session);
      this.#live++;
      this.#watchIdle(session);
    }
    return session.ended ? endedError(session.ended, this.limits.maxBytes) : session;
  }

  #watchIdle(session: Session, wait = this.limits.idleTimeoutMs): void {
    session.idleTimer = setTimeout(() => {
      const idle = performance.now() - session.lastActive;
      if (idle >= this.limits.idleTimeoutMs) this.#end(session, "idle");
      else this.#watchIdle(session, this.limits.idleTimeoutMs - idle);
    }, wait);
  }

  #closeChannel(session: Session, channel: Channel): void {
    if (channel.closed) return;
    channel.closed = true;
    clearTimeout(channel.waitTimer);
    for (const conn of channel.conns) if (conn !== undefined) closeQuietly(conn);
    if (session.channels.get(channel.number) === channel) session.channels.delete(channel.number);
    this.#channels--;
    channel.done.resolve();
  }

  #end(session: Session, reason: EndReason): void {
    if (session.ended) return;
    session.ended = reason;
    session.endedAt = performance.now();
    this.#live--;
    clearTimeout(session.idleTimer);
    session.stop.abort();
    for (const channel of [...session.channels.values()]) this.#closeChannel(session, channel);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(id);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const id = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
