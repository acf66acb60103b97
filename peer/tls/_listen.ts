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
  normalizeAddr,
  normalizeIp,
  P2pftError,
} from "../../base/mod.ts";
import type { PeerCertificate } from "../cert/mod.ts";
import type { PeerLink } from "../link/mod.ts";
import { denoChannel, writeAndRelease } from "./_channel.ts";
import { DEFAULT_TIMEOUT_MS, readPreamble, READY } from "./_connect.ts";
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
  /** Aborting closes the listener (and a link not yet accepted). */
  signal?: AbortSignal;
}

/** The sender's LAN listener: one link, whose stream connections it keeps accepting. */
export interface TlsPeerListener extends AsyncDisposable {
  readonly port: number;
  /** The link, once the receiver's control connection arrived; the listener then closes with it. */
  accept(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<PeerLink>;
}

/** Sender, LAN: listens for TLS over TCP on `port` (0 for any). */
export function listenTlsPeer(port: number, options: ListenTlsPeerOptions): TlsPeerListener {
  return new LanListener(bindTls(port, options), options);
}

function bindTls(port: number, options: ListenTlsPeerOptions): Deno.TlsListener {
  const bind = (hostname: string) =>
    Deno.listenTls({
      hostname,
      port,
      cert: options.certificate.certPem,
      key: options.certificate.keyPem,
    });
  const hostname = options.hostname ?? "::";
  try {
    return options.hostname === undefined ? bindEitherStack(bind) : bind(options.hostname);
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "the port is already in use"
      : String(error);
    throw new P2pftError(`Cannot listen for TLS on TCP ${formatAddr({ hostname, port })}: ${why}`, {
      cause: error,
    });
  }
}

/** Phases: no control connection yet (`#secret` unset), then a session that takes streams. */
class LanListener implements TlsPeerListener {
  readonly port: number;
  readonly #listener: Deno.TlsListener;
  readonly #options: ListenTlsPeerOptions;
  readonly #timeoutMs: number;
  readonly #linked = Promise.withResolvers<PeerLink>();
  readonly #onAbort = () => this.#stop(this.#options.signal!.reason);
  #session: TlsSession | undefined;
  #secret: Uint8Array | undefined;
  #pending = 0;
  #stopped = false;

  constructor(listener: Deno.TlsListener, options: ListenTlsPeerOptions) {
    this.#listener = listener;
    this.#options = options;
    this.port = (listener.addr as Deno.NetAddr).port;
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
      for await (const conn of this.#listener) {
        const remote = normalizeAddr(conn.remoteAddr as Deno.NetAddr);
        if (
          (options.expectedRemoteIp !== undefined &&
            remote.hostname !== normalizeIp(options.expectedRemoteIp)) ||
          (options.admit && !options.admit(remote)) ||
          this.#pending >= MAX_PENDING_HANDSHAKES
        ) {
          conn.close();
          continue;
        }
        this.#pending++;
        this.#admit(conn).finally(() => this.#pending--);
      }
    } catch (error) {
      this.#stop(
        new ConnectionLostError(`The TLS listener on port ${this.port} failed`, { cause: error }),
      );
    }
  }

  async #admit(conn: Deno.TlsConn): Promise<void> {
    const channel = denoChannel(
      conn,
      `the TLS connection from ${formatAddr(normalizeAddr(conn.remoteAddr as Deno.NetAddr))}`,
    );
    try {
      using limit = deadline({
        signal: this.#options.signal,
        timeoutMs: this.#timeoutMs,
        message: "TLS handshake and preamble too slow",
      });
      const preamble = await abortable(
        conn.handshake().then(() => readPreamble(channel)),
        limit.signal,
        { onAbort: () => channel.close() },
      );
      if (preamble.kind === "control" && this.#secret === undefined && !this.#stopped) {
        this.#secret = preamble.secret;
        await writeAndRelease(channel.stream.writable, READY);
        this.#session = new TlsSession({
          role: "sender",
          control: channel,
          // The receiver dials our streams ahead (PROTOCOL.md): no OPEN.
          announceOwn: false,
          timeoutMs: this.#timeoutMs,
          onGone: () => this.#stop(new ConnectionLostError("The TLS link is closed")),
        });
        this.#linked.resolve(this.#session);
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
