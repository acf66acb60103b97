import {
  bindEitherStack,
  ConnectionLostError,
  formatAddr,
  P2pftError,
  ProtocolError,
  sameAddr,
  withDeadline,
  withinDeadline,
} from "../../base/mod.ts";
import type { ByteStream } from "../../transfer/mod.ts";
import { PEER_SERVER_NAME, type PeerCertificate } from "../cert/mod.ts";
import {
  decodeLinkEnd,
  encodeLinkEnd,
  LINK_IDLE_TIMEOUT_MS,
  LINK_KEEP_ALIVE_MS,
  type LinkEnd,
  MAX_END_MESSAGE_BYTES,
  MAX_END_REASON_BYTES,
  type OpenStreamOptions,
  pausedMessage,
  type PeerLink,
  silentPeerMessage,
  truncateUtf8,
} from "../link/mod.ts";
import { StreamInbox } from "./_inbox.ts";
import { laneProof } from "./_lane_hello.ts";
import { type Lanes, MAX_LANES, ReceiverLanes, SenderLanes } from "./_lanes.ts";
import { PauseWatch } from "./_pause_watch.ts";

/**
 * ALPN of the p2pft QUIC protocol; bumps with the transfer protocol's major
 * version and with the link's. `p2pft/2` adds lanes (peer/PROTOCOL.md,
 * "Lanes"); both sides still offer `p2pft/1`, which runs without them.
 */
export const ALPN = "p2pft/2";
const ALPNS = [ALPN, "p2pft/1"];

/**
 * BBR ("low-latency" in Deno 2.9.6) holds up under random loss where CUBIC
 * collapses (43.6 vs 1.8 Mbit/s at 100 ms RTT, 1 % loss; shared/ANCHORS.md).
 */
const TRANSPORT = {
  congestionControl: "low-latency",
  keepAliveInterval: LINK_KEEP_ALIVE_MS,
  maxIdleTimeout: LINK_IDLE_TIMEOUT_MS,
} as const;

/** CONNECTION_CLOSE codes: 0 finished, 1 failed (the reason repeats the end message's). */
const CLOSE_DONE = 0;
const CLOSE_FAILED = 1;
/** How long a closing side waits for the peer to confirm it read the end message. */
const PEER_CLOSE_DEADLINE_MS = 2_000;

export interface AcceptPeerOptions {
  certificate: PeerCertificate;
  /** Connections from any other address are closed and ignored. */
  expectedRemote: Deno.NetAddr;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Sender side: binds QUIC on the punched port and accepts the receiver's connection. */
export async function acceptPeer(port: number, options: AcceptPeerOptions): Promise<PeerLink> {
  const endpoint = bindEitherStack((hostname) => new Deno.QuicEndpoint({ hostname, port }));
  const listener = endpoint.listen({
    ...TRANSPORT,
    alpnProtocols: ALPNS,
    cert: options.certificate.certPem,
    key: options.certificate.keyPem,
  });
  const timeoutMs = options.timeoutMs ?? 15_000;
  try {
    // On a timeout or an abort the catch closes the endpoint, which fails the pending accept.
    const conn = await withDeadline(
      (async () => {
        while (true) {
          // QuicIncoming.remoteAddr must not be read before accept() in Deno 2.9.6.
          const candidate = await listener.accept();
          if (sameAddr(candidate.remoteAddr, options.expectedRemote)) return candidate;
          candidate.close({ closeCode: 1, reason: "unexpected peer" });
        }
      })(),
      {
        timeoutMs,
        message: `The receiver did not connect over QUIC from ${
          formatAddr(options.expectedRemote)
        } within ${timeoutMs / 1000} s`,
        signal: options.signal,
      },
    );
    // With p2pft/2 the receiver may dial lanes on the same port pair: keep listening for those.
    let lanes: Lanes | undefined;
    if (conn.protocol === ALPN) lanes = new SenderLanes(listener, options.expectedRemote);
    else listener.stop();
    return new QuicLink(conn, endpoint, "receiver", lanes);
  } catch (error) {
    endpoint.close();
    throw handshakeFailure(error, `accept the receiver's QUIC connection`, options.signal);
  }
}

export interface DialPeerOptions {
  /** The sender's certificate, PEM, pinned as the only trusted root. */
  peerCertificatePem: string;
  /** Connections to open, the first one included (peer/PROTOCOL.md, "Lanes"); default 1. */
  lanes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Receiver side: binds QUIC on the punched port and dials the sender. */
export async function dialPeer(
  port: number,
  remote: Deno.NetAddr,
  options: DialPeerOptions,
): Promise<PeerLink> {
  const endpoint = bindEitherStack((hostname) => new Deno.QuicEndpoint({ hostname, port }));
  const timeoutMs = options.timeoutMs ?? 15_000;
  const connect = async () => {
    const conn = await Deno.connectQuic({
      ...TRANSPORT,
      endpoint,
      hostname: remote.hostname,
      port: remote.port,
      serverName: PEER_SERVER_NAME,
      alpnProtocols: ALPNS,
      caCerts: [options.peerCertificatePem],
    });
    await conn.handshake;
    return conn;
  };
  try {
    // On a timeout or an abort the catch closes the endpoint, which fails the pending handshake.
    const conn = await withDeadline(
      connect(),
      {
        timeoutMs,
        message: `The QUIC handshake with ${formatAddr(remote)} did not finish within ${
          timeoutMs / 1000
        } s`,
        signal: options.signal,
      },
    );
    const lanes = conn.protocol === ALPN && (options.lanes ?? 1) > 1
      ? new ReceiverLanes(Math.min(options.lanes!, MAX_LANES) - 1, connect)
      : undefined;
    return new QuicLink(conn, endpoint, "sender", lanes);
  } catch (error) {
    endpoint.close();
    throw handshakeFailure(
      error,
      `finish the QUIC handshake with ${formatAddr(remote)}`,
      options.signal,
    );
  }
}

/**
 * QUIC's own failures (its idle timeout during the handshake: "timed out")
 * are a lost connection, not an unforeseen error; ours and an abort pass as they are.
 */
function handshakeFailure(error: unknown, what: string, signal?: AbortSignal): unknown {
  if (error instanceof P2pftError || (signal?.aborted && error === signal.reason)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectionLostError(`Cannot ${what}: ${message}`, { cause: error });
}

/**
 * A `PeerLink` over one QUIC connection. The session's end travels in-band:
 * the closing side writes the end message on a unidirectional stream, and
 * the peer, once it read it, closes the connection; that close is the
 * closing side's cue to let its endpoint go (peer/PROTOCOL.md, "Ending a session").
 */
class QuicLink implements PeerLink {
  readonly transport = "quic";
  readonly closed: Promise<LinkEnd | undefined>;
  readonly #conn: Deno.QuicConn;
  readonly #endpoint: Deno.QuicEndpoint;
  readonly #incoming: StreamInbox;
  readonly #lanes: Lanes | undefined;
  /** The next data stream goes on this connection of [first, ...lanes]. */
  #nextLane = 0;
  readonly #remote: string;
  readonly #peer: "sender" | "receiver";
  #closing: Promise<void> | undefined;
  #peerEnd: LinkEnd | undefined;
  /** Set when QUIC's idle timeout ended the connection: the peer went silent. */
  #silent = false;
  readonly #pauses: PauseWatch;
  /** Set (to the pause, ms) when this process stood still past the peer's idle timeout. */
  #pausedMs: number | undefined;

  constructor(
    conn: Deno.QuicConn,
    endpoint: Deno.QuicEndpoint,
    peer: "sender" | "receiver",
    lanes?: Lanes,
  ) {
    this.#peer = peer;
    this.#conn = conn;
    this.#endpoint = endpoint;
    this.#incoming = new StreamInbox(conn);
    this.#lanes = lanes;
    lanes?.onLane((lane) => this.#incoming.add(lane));
    this.#remote = formatAddr(conn.remoteAddr);
    this.#watchPeerEnd();
    // A pause past the peer's idle timeout (plus one keep-alive of slack for a busy host): the
    // peer has given up, which QUIC would learn only tens of seconds later (see _pause_watch.ts).
    this.#pauses = new PauseWatch({
      limitMs: LINK_IDLE_TIMEOUT_MS + LINK_KEEP_ALIVE_MS,
      everyMs: LINK_KEEP_ALIVE_MS / 3,
      onPause: (gapMs) => {
        this.#pausedMs = gapMs;
        const self = peer === "sender" ? "receiver" : "sender";
        try {
          conn.close({
            closeCode: CLOSE_FAILED,
            reason: `the ${self} was paused for ${(gapMs / 1000).toFixed(1)} s`,
          });
        } catch {
          // already closed (QUIC's own idle timer fired first on resume)
        }
      },
    });
    conn.closed.catch(() => {}).then(() => this.#pauses.stop());
    this.closed = conn.closed.then(
      (info) => {
        if (this.#peerEnd) return this.#peerEnd;
        // Our own close settles this too (code 0, no reason): only the peer's counts.
        if (this.#closing || this.#pausedMs !== undefined) return undefined;
        return { failed: info.closeCode !== CLOSE_DONE, message: info.reason };
      },
      (error) => {
        // quinn reports its idle timeout as "timed out": the peer was killed, froze, or the path died.
        this.#silent = /timed out/i.test(String(error));
        return this.#peerEnd;
      },
    );
  }

  /** Data streams take turns over the first connection and the lanes that joined. */
  async openStream(options?: OpenStreamOptions): Promise<ByteStream> {
    let conn = this.#conn;
    if (options?.data) {
      const conns = [this.#conn, ...(this.#lanes?.ready ?? [])];
      conn = conns[this.#nextLane++ % conns.length];
    }
    try {
      return await conn.createBidirectionalStream();
    } catch (error) {
      throw this.#lost("open a stream", error);
    }
  }

  useLanes(sessionKey: Uint8Array): void {
    this.#lanes?.admit(laneProof(sessionKey));
  }

  async acceptStream(): Promise<ByteStream> {
    let next: ReadableStreamReadResult<ByteStream>;
    try {
      next = await this.#incoming.next();
    } catch (error) {
      throw this.#lost("accept a stream", error);
    }
    if (next.done) throw this.#lost("accept a stream", "it closed");
    return next.value;
  }

  close(end: LinkEnd): Promise<void> {
    this.#closing ??= this.#close(end);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close({ failed: false, message: "done" });
  }

  async #close(end: LinkEnd): Promise<void> {
    const told = (async () => {
      const stream = await this.#conn.createUnidirectionalStream();
      const writer = stream.getWriter();
      await writer.write(encodeLinkEnd(end));
      await writer.close();
    })();
    // The peer closes once it read the end message; until then our endpoint
    // must live to retransmit it. A peer that is gone never answers: deadline.
    await withinDeadline(
      told.then(() => this.#conn.closed).catch(() => {}),
      PEER_CLOSE_DEADLINE_MS,
    );
    this.#conn.close({
      closeCode: end.failed ? CLOSE_FAILED : CLOSE_DONE,
      reason: new TextDecoder().decode(truncateUtf8(end.message, MAX_END_REASON_BYTES)),
    });
    await this.#conn.closed.catch(() => {});
    this.#lanes?.close();
    this.#incoming.release();
    this.#endpoint.close();
    await this.#lanes?.settled;
  }

  /** Reads the peer's end message, then closes the connection: that close tells the peer we have it. */
  async #watchPeerEnd(): Promise<void> {
    const streams = this.#conn.incomingUnidirectionalStreams.getReader();
    try {
      const { value, done } = await streams.read();
      if (done) return;
      const end = decodeLinkEnd(await readAtMost(value, MAX_END_MESSAGE_BYTES));
      if (!this.#closing) this.#peerEnd = end;
      this.#conn.close({ closeCode: CLOSE_DONE, reason: "end received" });
    } catch {
      // The connection is gone, or the peer sent junk: `closed` says what is known.
    } finally {
      streams.releaseLock();
    }
  }

  get lostReason(): string | undefined {
    // The link is lost: the watch's last look tells whether a pause of ours is why.
    this.#pauses.stop();
    if (this.#pausedMs !== undefined) return pausedMessage(this.#peer, this.#pausedMs);
    return this.#silent ? silentPeerMessage(this.#peer) : undefined;
  }

  #lost(what: string, cause: unknown): ConnectionLostError {
    const reason = this.lostReason;
    if (reason !== undefined) return new ConnectionLostError(reason, { cause });
    return new ConnectionLostError(
      `Cannot ${what}: the QUIC connection to ${this.#remote} is gone (${cause})`,
      { cause },
    );
  }
}

/** The stream's bytes up to its end; more than `max` is a `ProtocolError`. */
async function readAtMost(readable: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of readable) {
    length += chunk.length;
    if (length > max) throw new ProtocolError(`The peer's end message exceeds ${max} bytes`);
    chunks.push(chunk);
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
