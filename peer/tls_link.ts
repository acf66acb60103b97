/**
 * TLS over TCP between the peers (PROTOCOL.md, "TLS link"): on the LAN the
 * sender listens and the receiver dials; through the TCP relay both dial out.
 * The sender is always the TLS server (it holds the certificate), the
 * receiver the TLS client pinning it. Each stream is its own TLS connection;
 * a control connection made first carries OPEN, CLOSE and PING.
 */
import { abortable, deadline } from "../async.ts";
import { fillFrom } from "../byte_reader.ts";
import { equalBytes } from "../bytes.ts";
import { ConnectionLostError, P2pftError, ProtocolError } from "../errors.ts";
import { formatAddr } from "./addresses.ts";
import { bindEitherStack } from "../ip.ts";
import { normalizeAddr, normalizeIp } from "../ip.ts";
import { certificateFingerprint, certificatePem, type PeerCertificate } from "./certificate.ts";
import type { PeerLink } from "./link.ts";
import { denoChannel, writeAll } from "./_tls_channel.ts";
import { TlsBridge } from "./_tls_bridge.ts";
import {
  awaitReady,
  clientChannel,
  DEFAULT_TIMEOUT_MS,
  readPreamble,
  READY,
} from "./_tls_connect.ts";
import { TlsSession } from "./_tls_session.ts";
import {
  CERTIFICATE_PREFACE_HEADER,
  decodeCertificatePrefaceHeader,
  encodeCertificatePreface,
  SECRET_LENGTH,
} from "./_tls_wire.ts";

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
  const bind = (hostname: string) =>
    Deno.listenTls({
      hostname,
      port,
      cert: options.certificate.certPem,
      key: options.certificate.keyPem,
    });
  const hostname = options.hostname ?? "::";
  let listener: Deno.TlsListener;
  try {
    listener = options.hostname === undefined ? bindEitherStack(bind) : bind(options.hostname);
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "the port is already in use"
      : String(error);
    throw new P2pftError(`Cannot listen for TLS on TCP ${formatAddr({ hostname, port })}: ${why}`, {
      cause: error,
    });
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let session: TlsSession | undefined;
  let secret: Uint8Array | undefined;
  let pending = 0;
  let stopped = false;
  const linked = Promise.withResolvers<PeerLink>();
  linked.promise.catch(() => {});
  const stop = (reason: Error) => {
    if (stopped) return;
    stopped = true;
    listener.close();
    linked.reject(reason);
  };
  const onAbort = () => stop(options.signal!.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });

  async function admit(conn: Deno.TlsConn): Promise<void> {
    const channel = denoChannel(
      conn,
      `the TLS connection from ${formatAddr(normalizeAddr(conn.remoteAddr as Deno.NetAddr))}`,
    );
    try {
      using limit = deadline({
        signal: options.signal,
        timeoutMs,
        message: "TLS handshake and preamble too slow",
      });
      const preamble = await abortable(
        conn.handshake().then(() => readPreamble(channel)),
        limit.signal,
        { onAbort: () => channel.close() },
      );
      if (preamble.kind === "control" && secret === undefined && !stopped) {
        secret = preamble.secret;
        await writeAll(channel.stream.writable, READY);
        session = new TlsSession({
          role: "sender",
          control: channel,
          // The receiver dials our streams ahead (PROTOCOL.md, "TLS link"): no OPEN.
          announceOwn: false,
          timeoutMs,
          onGone: () => stop(new ConnectionLostError("The TLS link is closed")),
        });
        linked.resolve(session);
        return;
      }
      const ok = preamble.kind === "stream" && secret !== undefined &&
        equalBytes(preamble.secret, secret) && session?.deliver(preamble.streamId, channel);
      if (!ok) channel.close();
    } catch {
      // Failed handshakes, junk and slow connections are dropped: they are not our peer.
      channel.close();
    }
  }

  (async () => {
    try {
      for await (const conn of listener) {
        const remote = normalizeAddr(conn.remoteAddr as Deno.NetAddr);
        if (
          (options.expectedRemoteIp !== undefined &&
            remote.hostname !== normalizeIp(options.expectedRemoteIp)) ||
          (options.admit && !options.admit(remote)) ||
          pending >= MAX_PENDING_HANDSHAKES
        ) {
          conn.close();
          continue;
        }
        pending++;
        admit(conn).finally(() => pending--);
      }
    } catch (error) {
      stop(new ConnectionLostError(`The TLS listener on port ${port} failed`, { cause: error }));
    }
  })();

  return {
    port: (listener.addr as Deno.NetAddr).port,
    async accept(acceptOptions = {}) {
      const ms = acceptOptions.timeoutMs ?? timeoutMs;
      using limit = deadline({
        signal: acceptOptions.signal,
        timeoutMs: ms,
        message: `The receiver did not connect over TLS${
          options.expectedRemoteIp ? ` from ${options.expectedRemoteIp}` : ""
        } within ${ms / 1000} s`,
      });
      try {
        return await abortable(linked.promise, limit.signal);
      } catch (error) {
        stop(error as Error);
        throw error;
      }
    },
    async [Symbol.asyncDispose]() {
      options.signal?.removeEventListener("abort", onAbort);
      if (session) await session.close({ failed: false, message: "done" });
      stop(new ConnectionLostError("The TLS listener is closed"));
    },
  };
}

export interface DialTlsPeerOptions {
  /** The sender's certificate, PEM, pinned as the only root the name can chain to. */
  peerCertificatePem: string;
  /** Deadline for the control connection and for each stream; default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Receiver, LAN: dials the sender's TLS listener. */
export async function dialTlsPeer(
  remote: Deno.NetAddr,
  options: DialTlsPeerOptions,
): Promise<PeerLink> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secret = crypto.getRandomValues(new Uint8Array(SECRET_LENGTH));
  const where = formatAddr(remote);
  const dial = (signal: AbortSignal) =>
    Deno.connect({ hostname: remote.hostname, port: remote.port, signal }).catch((error) => {
      if (signal.aborted) throw signal.reason;
      throw new ConnectionLostError(`Cannot connect over TCP to ${where}: ${error.message}`, {
        cause: error,
      });
    });
  using limit = deadline({
    signal: options.signal,
    timeoutMs,
    message: `The TLS link to ${where} was not ready within ${timeoutMs / 1000} s`,
  });
  const control = await clientChannel(await dial(limit.signal), {
    pem: options.peerCertificatePem,
    preamble: { kind: "control", secret, streamId: 0 },
    where,
    signal: limit.signal,
  });
  await awaitReady(control, limit.signal);
  return new TlsSession({
    role: "receiver",
    control,
    announceOwn: false,
    dialAhead: true,
    timeoutMs,
    dial: async (id, signal) =>
      clientChannel(await dial(signal), {
        pem: options.peerCertificatePem,
        preamble: { kind: "stream", secret, streamId: id },
        where,
        signal,
      }),
  });
}

/** Opens one relayed TCP connection; channel 0 is the control connection, stream `id` is `id + 1`. */
export type RelayDial = (channel: number, signal: AbortSignal) => Promise<Deno.Conn>;

export interface RelayTlsSenderOptions {
  certificate: PeerCertificate;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Sender, relay: dials the relay and is the TLS server on every relayed
 * connection (through a loopback `TlsBridge`). Channel 0 first carries the
 * certificate in the clear (PROTOCOL.md, "Certificate preface"), so a
 * receiver that did not punch (rendezvous over TCP) can pin it.
 */
export async function relayTlsSender(
  dial: RelayDial,
  options: RelayTlsSenderOptions,
): Promise<PeerLink> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const bridge = new TlsBridge(options.certificate);
  const serve = async (channelNumber: number, signal: AbortSignal) => {
    const conn = await dial(channelNumber, signal);
    if (channelNumber === 0) {
      await writeConn(conn, encodeCertificatePreface(options.certificate.der)).catch((error) => {
        conn.close();
        throw error;
      });
    }
    const channel = await bridge.serve(conn, `relayed TLS connection ${channelNumber}`, signal);
    return {
      channel,
      preamble: await abortable(readPreamble(channel), signal, { onAbort: channel.close }),
    };
  };
  try {
    using limit = deadline({
      signal: options.signal,
      timeoutMs,
      message: `The TLS link through the relay was not ready within ${timeoutMs / 1000} s`,
    });
    const { channel: control, preamble } = await serve(0, limit.signal);
    if (preamble.kind !== "control") {
      control.close();
      throw new ProtocolError(
        "The first relayed TLS connection is not the link's control connection",
      );
    }
    await writeAll(control.stream.writable, READY);
    return new TlsSession({
      role: "sender",
      control,
      announceOwn: true,
      timeoutMs,
      onGone: () => bridge[Symbol.dispose](),
      dial: async (id, signal) => {
        const { channel, preamble: got } = await serve(id + 1, signal);
        if (
          got.kind !== "stream" || got.streamId !== id ||
          !equalBytes(got.secret, preamble.secret)
        ) {
          channel.close();
          throw new ProtocolError(
            `Relayed TLS connection ${id + 1} is not stream ${id} of this link`,
          );
        }
        return channel;
      },
    });
  } catch (error) {
    bridge[Symbol.dispose]();
    throw error;
  }
}

export interface RelayTlsReceiverOptions {
  /**
   * The sender's certificate fingerprint (SHA-256 of its DER), as announced
   * through the rendezvous server: the certificate preface must match it.
   */
  peerFingerprint: Uint8Array;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Receiver, relay: dials the relay and is the TLS client (pinning the sender) on every connection. */
export async function relayTlsReceiver(
  dial: RelayDial,
  options: RelayTlsReceiverOptions,
): Promise<PeerLink> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secret = crypto.getRandomValues(new Uint8Array(SECRET_LENGTH));
  let pem = "";
  const connect = async (id: number | undefined, signal: AbortSignal) => {
    const conn = await dial(id === undefined ? 0 : id + 1, signal);
    if (id === undefined) {
      const der = await abortable(readCertificatePreface(conn), signal, {
        onAbort: () => conn.close(),
      })
        .catch((error) => {
          conn.close();
          throw error;
        });
      if (!equalBytes(certificateFingerprint(der), options.peerFingerprint)) {
        conn.close();
        throw new P2pftError(
          "The certificate that came through the relay is not the one the sender announced " +
            "through the rendezvous server: someone may be in the middle; nothing was received",
        );
      }
      pem = certificatePem(der);
    }
    return clientChannel(conn, {
      pem,
      preamble: id === undefined
        ? { kind: "control", secret, streamId: 0 }
        : { kind: "stream", secret, streamId: id },
      where: "the relay",
      signal,
    });
  };
  using limit = deadline({
    signal: options.signal,
    timeoutMs,
    message: `The TLS link through the relay was not ready within ${timeoutMs / 1000} s`,
  });
  const control = await connect(undefined, limit.signal);
  await awaitReady(control, limit.signal);
  return new TlsSession({
    role: "receiver",
    control,
    announceOwn: true,
    timeoutMs,
    dial: (id, signal) => connect(id, signal),
  });
}

async function writeConn(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
}

/** Reads the certificate preface from the raw connection, taking no TLS byte after it. */
async function readCertificatePreface(conn: Deno.Conn): Promise<Uint8Array> {
  const header = await readPrefacePart(conn, CERTIFICATE_PREFACE_HEADER);
  return await readPrefacePart(conn, decodeCertificatePrefaceHeader(header));
}

async function readPrefacePart(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  const filled = await fillFrom(conn, buffer);
  if (filled < length) {
    throw new ConnectionLostError(
      `Cannot read the sender's certificate through the relay: the connection closed after ${filled} of ${length} bytes`,
    );
  }
  return buffer;
}
