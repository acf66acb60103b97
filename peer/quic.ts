import { TimeoutError } from "../errors.ts";
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
}

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
  return {
    conn,
    endpoint,
    async [Symbol.asyncDispose]() {
      if (role === "receiver") {
        // Let the sender close first, so our last frames are acknowledged.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          conn.closed.catch(() => {}),
          new Promise((resolve) => timer = setTimeout(resolve, CLOSE_GRACE_MS)),
        ]);
        clearTimeout(timer);
      }
      conn.close({ closeCode: 0, reason: "done" });
      await conn.closed.catch(() => {});
      endpoint.close();
    },
  };
}

/** Runs `work`; on timeout or abort closes the endpoint (failing pending QUIC calls) and rejects. */
async function untilAborted<T>(
  work: () => Promise<T>,
  options: {
    endpoint: Deno.QuicEndpoint;
    timeoutMs: number;
    message: string;
    signal?: AbortSignal;
  },
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(options.message)), options.timeoutMs);
    onAbort = () => reject(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
  });
  const running = work();
  try {
    return await Promise.race([running, stopped]);
  } catch (error) {
    options.endpoint.close();
    running.catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
  }
}
