import { type DeadlineOptions, withDeadline } from "../async.ts";
import { formatAddr, sameAddr } from "./addresses.ts";
import { PEER_SERVER_NAME, type PeerCertificate } from "./certificate.ts";

/** ALPN of the p2pft QUIC protocol; bumps with the transfer protocol's major version. */
export const ALPN = "p2pft/1";

/**
 * BBR ("low-latency" in Deno 2.9.6) holds up under random loss where CUBIC
 * collapses (43.6 vs 1.8 Mbit/s at 100 ms RTT, 1 % loss; shared/ANCHORS.md).
 */
const TRANSPORT = {
  congestionControl: "low-latency",
  keepAliveInterval: 2_500,
  maxIdleTimeout: 10_000,
} as const;

export interface QuicLink extends AsyncDisposable {
  conn: Deno.QuicConn;
  endpoint: Deno.QuicEndpoint;
  /** Closes at once with an error the peer can show (it is told `reason`). */
  abort(reason: string): Promise<void>;
  /** How the peer closed the connection, if it did so with an error within `graceMs`. */
  peerFailure(graceMs: number): Promise<string | undefined>;
}

/** Close codes on the wire: 0 finished, 1 failed (the reason says why). */
const CLOSE_DONE = 0;
const CLOSE_FAILED = 1;
const MAX_REASON_BYTES = 200;
/**
 * Deno's QuicEndpoint.close() drops connections without flushing their
 * CONNECTION_CLOSE, and conn.closed resolves before it is sent; without this
 * pause the peer only notices at its idle timeout.
 */
const CLOSE_FLUSH_MS = 100;

export interface AcceptPeerOptions {
  certificate: PeerCertificate;
  /** Connections from any other address are closed and ignored. */
  expectedRemote: Deno.NetAddr;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Sender side: binds QUIC on the punched port and accepts the receiver's connection. */
export async function acceptPeer(port: number, options: AcceptPeerOptions): Promise<QuicLink> {
  const endpoint = new Deno.QuicEndpoint({ hostname: "0.0.0.0", port });
  const listener = endpoint.listen({
    ...TRANSPORT,
    alpnProtocols: [ALPN],
    cert: options.certificate.certPem,
    key: options.certificate.keyPem,
  });
  const timeoutMs = options.timeoutMs ?? 15_000;
  try {
    const conn = await untilAborted(async () => {
      while (true) {
        // QuicIncoming.remoteAddr must not be read before accept() in Deno 2.9.6.
        const candidate = await listener.accept();
        if (sameAddr(candidate.remoteAddr, options.expectedRemote)) return candidate;
        candidate.close({ closeCode: 1, reason: "unexpected peer" });
      }
    }, {
      endpoint,
      timeoutMs,
      message: `The receiver did not connect over QUIC from ${
        formatAddr(options.expectedRemote)
      } within ${timeoutMs / 1000} s`,
      signal: options.signal,
    });
    listener.stop();
    return link(conn, endpoint, "sender");
  } catch (error) {
    endpoint.close();
    throw error;
  }
}

export interface DialPeerOptions {
  /** The sender's certificate, PEM, pinned as the only trusted root. */
  peerCertificatePem: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Receiver side: binds QUIC on the punched port and dials the sender. */
export async function dialPeer(
  port: number,
  remote: Deno.NetAddr,
  options: DialPeerOptions,
): Promise<QuicLink> {
  const endpoint = new Deno.QuicEndpoint({ hostname: "0.0.0.0", port });
  const timeoutMs = options.timeoutMs ?? 15_000;
  try {
    const conn = await untilAborted(async () => {
      const conn = await Deno.connectQuic({
        ...TRANSPORT,
        endpoint,
        hostname: remote.hostname,
        port: remote.port,
        serverName: PEER_SERVER_NAME,
        alpnProtocols: [ALPN],
        caCerts: [options.peerCertificatePem],
      });
      await conn.handshake;
      return conn;
    }, {
      endpoint,
      timeoutMs,
      message: `The QUIC handshake with ${formatAddr(remote)} did not finish within ${
        timeoutMs / 1000
      } s`,
      signal: options.signal,
    });
    return link(conn, endpoint, "receiver");
  } catch (error) {
    endpoint.close();
    throw error;
  }
}

const CLOSE_GRACE_MS = 2_000;

function link(
  conn: Deno.QuicConn,
  endpoint: Deno.QuicEndpoint,
  role: "sender" | "receiver",
): QuicLink {
  let closed = false;
  const close = async (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    conn.close({ closeCode: code, reason: truncate(reason) });
    await conn.closed.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, CLOSE_FLUSH_MS));
    endpoint.close();
  };
  return {
    conn,
    endpoint,
    abort: (reason) => close(CLOSE_FAILED, reason),
    async peerFailure(graceMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const info = await Promise.race([
        conn.closed.catch(() => undefined),
        new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), graceMs)),
      ]);
      clearTimeout(timer);
      return info?.closeCode === CLOSE_FAILED && info.reason ? info.reason : undefined;
    },
    async [Symbol.asyncDispose]() {
      if (role === "receiver" && !closed) {
        // Let the sender close first, so our last frames are acknowledged.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          conn.closed.catch(() => {}),
          new Promise((resolve) => timer = setTimeout(resolve, CLOSE_GRACE_MS)),
        ]);
        clearTimeout(timer);
      }
      await close(CLOSE_DONE, "done");
    },
  };
}

function truncate(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= MAX_REASON_BYTES) return reason;
  return `${
    new TextDecoder().decode(bytes.subarray(0, MAX_REASON_BYTES)).replace(/\uFFFD$/, "")
  }...`;
}

/** Runs `work`; on timeout or abort closes the endpoint (failing pending QUIC calls) and rejects. */
async function untilAborted<T>(
  work: () => Promise<T>,
  options: DeadlineOptions & { endpoint: Deno.QuicEndpoint },
): Promise<T> {
  try {
    return await withDeadline(work(), options);
  } catch (error) {
    options.endpoint.close();
    throw error;
  }
}
