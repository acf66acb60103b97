/**
 * The sender's LAN side of the TLS link (PROTOCOL.md): one listener that admits the
 * receiver's control connection (TLS handshake, preamble, READY), then only stream connections
 * that carry the same secret, each handed to the session.
 */
import {
  abortable,
  bindEitherStack,
  ConnectionLostError,
  deadline,
  equalBytes,
  formatAddr,
  lacksIpv6,
  normalizeAddr,
  normalizeIp,
  P2pftError,
} from "../../base/mod.ts";
import type { PeerCertificate } from "../cert/mod.ts";
import type { PeerLink } from "../link/mod.ts";
import { type ChannelConn, denoChannel, writeAndRelease } from "./_channel.ts";
import { DEFAULT_TIMEOUT_MS, readPreamble, READY } from "./_connect.ts";
import { loadTls } from "./_fetch_certificate.ts";
import { firstStreamsOf, MAX_FIRST_STREAMS, noDelayServerAlpns } from "./_wire.ts";
import { sharingFirstStream } from "./_first_stream.ts";
import { TlsSession } from "./_session.ts";

/** TLS handshakes (plus preambles) the sender's listener runs at once; more are dropped. */
const MAX_PENDING_HANDSHAKES = 16;

export interface ListenTlsPeerOptions {
  certificate: PeerCertificate;
  /** Connections from any other IP are closed unread (the address that answered the probes). */
  expectedRemoteIp?: string;
  /** Connections it refuses are closed unread (checked when each arrives, after `expectedRemoteIp`). */
  admit?: (remote: Deno.NetAddr) => boolean;
  /** Address to bind; all interfaces (IPv4 and IPv6) by default. */
  hostname?: string;
  /** Deadline for one connection's TLS handshake and preamble, and for each stream; default 10 s. */
  timeoutMs?: number;
  /**
   * `listenTlsPeerNoDelay` only: the streams the sender opens first, which a receiver that
   * knows it dials at once (the rest are announced); default and at most 5, the transfer's
   * control stream and its 4 TCP data streams.
   */
  firstStreams?: number;
  /** Aborting closes the listener (and a link not yet accepted). */
  signal?: AbortSignal;
}

/** The sender's LAN listener: one link, whose stream connections it keeps accepting. */
export interface TlsPeerListener extends AsyncDisposable {
  readonly port: number;
  /** The link, once the receiver's control connection arrived; the listener then closes with it. */
  accept(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<PeerLink>;
}

/** A TCP connection the listener accepted, before TLS: refused unread, or started. */
export interface Incoming {
  remote: Deno.NetAddr;
  refuse(): void;
  /** Starts TLS: the connection as `denoChannel` reads it, and its handshake (the ALPN picked). */
  start(): { conn: ChannelConn; handshake(): Promise<string | null> };
}

/** Where the listener's connections come from: `Deno.listenTls`, or node:tls (`_node_server.ts`). */
export interface TlsAcceptor extends AsyncIterable<Incoming> {
  readonly port: number;
  close(): void;
}

/** Sender, LAN: listens for TLS over TCP on `port` (0 for any), with `Deno.listenTls`. */
export function listenTlsPeer(port: number, options: ListenTlsPeerOptions): TlsPeerListener {
  const hostname = options.hostname ?? "::";
  try {
    const bind = (host: string) => denoAcceptor(host, port, options.certificate);
    const acceptor = options.hostname === undefined ? bindEitherStack(bind) : bind(hostname);
    return new LanListener(acceptor, options);
  } catch (error) {
    throw cannotListen(hostname, port, error);
  }
}

/**
 * Sender, LAN, a small transfer: the same listener with Nagle's algorithm off on every
 * connection (node:tls on node:net, `_node_server.ts`), so no small write waits for the
 * receiver's delayed ACK. `firstStreams`: how
 * many streams it opens first (PROTOCOL.md, "Few connections for a small transfer").
 */
export async function listenTlsPeerNoDelay(
  port: number,
  options: ListenTlsPeerOptions,
): Promise<TlsPeerListener> {
  const hostname = options.hostname ?? "::";
  const { listenNoDelay } = await import("./_node_server.ts");
  const alpns = noDelayServerAlpns(options.firstStreams ?? MAX_FIRST_STREAMS);
  try {
    const listen = (host: string) => listenNoDelay(host, port, options.certificate, alpns);
    const acceptor = await listen(hostname).catch((error) => {
      if (options.hostname !== undefined || !lacksIpv6(error)) throw error;
      return listen("0.0.0.0");
    });
    return new LanListener(acceptor, options);
  } catch (error) {
    throw cannotListen(hostname, port, error);
  }
}

/** Loads what {@link listenTlsPeerNoDelay} needs (node:net, node:tls), to overlap other work. */
export function loadNoDelayServer(): Promise<unknown> {
  return Promise.all([import("./_node_server.ts"), import("node:net"), loadTls()]);
}

function cannotListen(hostname: string, port: number, error: unknown): P2pftError {
  const inUse = error instanceof Deno.errors.AddrInUse ||
    (error as { code?: string }).code === "EADDRINUSE";
  const why = inUse ? "the port is already in use" : String(error);
  return new P2pftError(`Cannot listen for TLS on TCP ${formatAddr({ hostname, port })}: ${why}`, {
    cause: error,
  });
}

function denoAcceptor(hostname: string, port: number, certificate: PeerCertificate): TlsAcceptor {
  const listener = Deno.listenTls({
    hostname,
    port,
    cert: certificate.certPem,
    key: certificate.keyPem,
  });
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => listener.close(),
    async *[Symbol.asyncIterator]() {
      for await (const conn of listener) {
        yield {
          remote: normalizeAddr(conn.remoteAddr as Deno.NetAddr),
          refuse: () => conn.close(),
          start: () => ({
            conn,
            handshake: () => conn.handshake().then((info) => info.alpnProtocol),
          }),
        };
      }
    },
  };
}

/** Phases: no control connection yet (`#secret` unset), then a session that takes streams. */
class LanListener implements TlsPeerListener {
  readonly port: number;
  readonly #listener: TlsAcceptor;
  readonly #options: ListenTlsPeerOptions;
  readonly #timeoutMs: number;
  readonly #linked = Promise.withResolvers<PeerLink>();
  readonly #onAbort = () => this.#stop(this.#options.signal!.reason);
  #session: TlsSession | undefined;
  #secret: Uint8Array | undefined;
  #pending = 0;
  #stopped = false;

  constructor(listener: TlsAcceptor, options: ListenTlsPeerOptions) {
    this.#listener = listener;
    this.#options = options;
    this.port = listener.port;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#linked.promise.catch(() => {});
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#acceptLoop();
  }

  async accept(acceptOptions: { timeoutMs?: number; signal?: AbortSignal } = {}) {
    const ms = acceptOptions.timeoutMs ?? this.#timeoutMs;
    const from = this.#options.expectedRemoteIp;
    using limit = deadline({
      signal: acceptOptions.signal,
      timeoutMs: ms,
      message: `The receiver did not connect over TLS${from ? ` from ${from}` : ""} within ${
        ms / 1000
      } s`,
    });
    try {
      return await abortable(this.#linked.promise, limit.signal);
    } catch (error) {
      this.#stop(error as Error);
      throw error;
    }
  }

  async [Symbol.asyncDispose]() {
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    if (this.#session) await this.#session.close({ failed: false, message: "done" });
    this.#stop(new ConnectionLostError("The TLS listener is closed"));
  }

  #stop(reason: Error) {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#listener.close();
    this.#linked.reject(reason);
  }

  async #acceptLoop(): Promise<void> {
    const options = this.#options;
    try {
      for await (const incoming of this.#listener) {
        const remote = incoming.remote;
        if (
          (options.expectedRemoteIp !== undefined &&
            remote.hostname !== normalizeIp(options.expectedRemoteIp)) ||
          (options.admit && !options.admit(remote)) ||
          this.#pending >= MAX_PENDING_HANDSHAKES
        ) {
          incoming.refuse();
          continue;
        }
        this.#pending++;
        this.#admit(incoming).finally(() => this.#pending--);
      }
    } catch (error) {
      this.#stop(
        new ConnectionLostError(`The TLS listener on port ${this.port} failed`, { cause: error }),
      );
    }
  }

  async #admit(incoming: Incoming): Promise<void> {
    const { conn, handshake } = incoming.start();
    const channel = denoChannel(conn, `the TLS connection from ${formatAddr(incoming.remote)}`);
    try {
      using limit = deadline({
        signal: this.#options.signal,
        timeoutMs: this.#timeoutMs,
        message: "TLS handshake and preamble too slow",
      });
      let firstStreams: number | undefined;
      const preamble = await abortable(
        handshake().then((alpn) => {
          firstStreams = firstStreamsOf(alpn);
          return readPreamble(channel);
        }),
        limit.signal,
        { onAbort: () => channel.close() },
      );
      if (preamble.kind === "control" && this.#secret === undefined && !this.#stopped) {
        this.#secret = preamble.secret;
        await writeAndRelease(channel.stream.writable, READY);
        this.#session = new TlsSession({
          role: "sender",
          control: channel,
          // The receiver dials our streams ahead (PROTOCOL.md): no OPEN; or, when it took our
          // no-delay ALPN, our first streams, and we announce the rest.
          announceOwn: firstStreams !== undefined,
          firstStreams,
          timeoutMs: this.#timeoutMs,
          onGone: () => this.#stop(new ConnectionLostError("The TLS link is closed")),
        });
        // `/0`: the receiver's first stream is our first one too (`_first_stream.ts`).
        this.#linked.resolve(
          firstStreams === 0 ? sharingFirstStream(this.#session, "sender") : this.#session,
        );
        return;
      }
      const ok = preamble.kind === "stream" && this.#secret !== undefined &&
        equalBytes(preamble.secret, this.#secret) &&
        this.#session?.deliver(preamble.streamId, channel);
      if (!ok) channel.close();
    } catch {
      // Failed handshakes, junk and slow connections are dropped: they are not our peer.
      channel.close();
    }
  }
}
