/**
 * TLS over TCP between the peers (PROTOCOL.md): on the LAN the
 * sender listens and the receiver dials; through the TCP relay both dial out.
 * The sender is always the TLS server (it holds the certificate), the
 * receiver the TLS client pinning it. Each stream is its own TLS connection;
 * a control connection made first carries OPEN, CLOSE and PING.
 */
import {
  abortable,
  ConnectionLostError,
  deadline,
  equalBytes,
  fillFrom,
  formatAddr,
  P2pftError,
  ProtocolError,
  writeAll,
} from "../../base/mod.ts";
import { certificateFingerprint, certificatePem, type PeerCertificate } from "../cert/mod.ts";
import type { PeerLink } from "../link/mod.ts";
import { connectTcp, type RelayConn, type RelayConnect } from "../../rendezvous/mod.ts";
import { writeAndRelease } from "./_channel.ts";
import {
  awaitReady,
  type ClientChannel,
  clientChannel,
  DEFAULT_TIMEOUT_MS,
  readPreamble,
  READY,
} from "./_connect.ts";
import { PremadeStreams } from "./_premade.ts";
import { connectNode, serveTls } from "./_relay_server.ts";
import { STREAMS_AHEAD, TlsSession } from "./_session.ts";
import {
  CERTIFICATE_PREFACE_HEADER,
  decodeCertificatePrefaceHeader,
  encodeCertificatePreface,
  firstStreamsOf,
  NO_DELAY_ALPNS,
  type Preamble,
  SECRET_LENGTH,
} from "./_wire.ts";

export { listenTlsPeer, listenTlsPeerNoDelay } from "./_listen.ts";
export type { ListenTlsPeerOptions, TlsPeerListener } from "./_listen.ts";

export interface DialTlsPeerOptions {
  /** The sender's certificate, PEM, pinned as the only root the name can chain to. */
  peerCertificatePem: string;
  /** Deadline for the control connection and for each stream; default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Bounds only reaching the sender, the control connection's TCP connect (the receiver's
   * fallback deadline): once it is up, the TLS handshake and READY are within `signal` and
   * `timeoutMs`, since the sender may already hold the link (peer/PROTOCOL.md, "Transport choice").
   */
  reachSignal?: AbortSignal;
}

/**
 * The sender's first `STREAMS_AHEAD` streams (even ids), which a LAN receiver makes while it waits
 * for READY when the sender Nagles (it picked no no-delay ALPN protocol): it dials them ahead
 * anyway. A sender that does not Nagle has the session dial its first streams, and the ones it
 * announces, and nothing more. Either way the PAKE's stream (1) is made with the control
 * connection.
 */
const DIALLED_AHEAD = Array.from({ length: STREAMS_AHEAD }, (_, index) => 2 * index);

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
  const secure = (tcp: Deno.Conn, signal: AbortSignal, preamble?: Preamble) =>
    clientChannel(tcp, {
      pem: options.peerCertificatePem,
      alpn: NO_DELAY_ALPNS,
      preamble,
      where,
      signal,
    });
  const connect = async (signal: AbortSignal, preamble?: Preamble) =>
    secure(await dial(signal), signal, preamble);
  // The PAKE's stream is made once the control connection's TCP is up (so the listener accepts
  // the control connection first), its TLS handshake beside the control's; a sender that Nagles
  // has its streams dialled ahead made while READY is awaited.
  const controlTcp = await dial(reaching(limit.signal, options.reachSignal));
  const premade = new PremadeStreams(connect, limit.signal);
  premade.make([1]);
  let control: ClientChannel;
  let firstStreams: number | undefined;
  try {
    control = await secure(controlTcp, limit.signal, { kind: "control", secret, streamId: 0 });
    firstStreams = firstStreamsOf(control.alpnProtocol);
    if (firstStreams === undefined) premade.make(DIALLED_AHEAD);
    await awaitReady(control, limit.signal);
  } catch (error) {
    premade.drop();
    throw error;
  }
  const session = new TlsSession({
    role: "receiver",
    control,
    announceOwn: false,
    dialAhead: firstStreams === undefined,
    firstStreams,
    timeoutMs,
    dial: async (id, signal) =>
      await premade.take(id, secret, signal) ??
        await connect(signal, { kind: "stream", secret, streamId: id }),
  });
  session.closed.finally(() => premade.drop());
  return session;
}

/**
 * Opens one relayed TCP connection with `connect` (the sender's opens a node socket, the
 * receiver's a Deno one); channel 0 is the control connection, stream `id` is `id + 1`.
 */
export type RelayDial = <C extends RelayConn>(
  channel: number,
  signal: AbortSignal,
  connect: RelayConnect<C>,
) => Promise<C>;

export interface RelayTlsSenderOptions {
  certificate: PeerCertificate;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Sender, relay: dials the relay and is the TLS server (node:tls) on every relayed
 * connection, in place. Channel 0 first carries the
 * certificate in the clear (PROTOCOL.md, "Certificate preface"), so a
 * receiver that did not punch (rendezvous over TCP) can pin it.
 */
export async function relayTlsSender(
  dial: RelayDial,
  options: RelayTlsSenderOptions,
): Promise<PeerLink> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const serve = async (channelNumber: number, signal: AbortSignal) => {
    const conn = await dial(channelNumber, signal, connectNode);
    if (channelNumber === 0) {
      await writeAll(conn, encodeCertificatePreface(options.certificate.der)).catch((error) => {
        conn.close();
        throw error;
      });
    }
    const channel = await serveTls(conn, options.certificate, {
      what: `relayed TLS connection ${channelNumber}`,
      signal,
      bulk: channelNumber > 0,
    });
    return {
      channel,
      preamble: await abortable(readPreamble(channel), signal, { onAbort: channel.close }),
    };
  };
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
  await writeAndRelease(control.stream.writable, READY).catch((error) => {
    control.close();
    throw error;
  });
  return new TlsSession({
    role: "sender",
    control,
    announceOwn: true,
    timeoutMs,
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
}

export interface RelayTlsReceiverOptions {
  /**
   * The sender's certificate fingerprint (SHA-256 of its DER), as announced
   * through the rendezvous server: the certificate preface must match it.
   */
  peerFingerprint: Uint8Array;
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Bounds only reaching the sender, channel 0 up to the relay's `relay-ready` (the receiver's
   * fallback deadline): after it the preface, TLS handshake and READY are within `signal` and
   * `timeoutMs`, as on the LAN ({@link DialTlsPeerOptions.reachSignal}).
   */
  reachSignal?: AbortSignal;
}

/** Receiver, relay: dials the relay and is the TLS client (pinning the sender) on every connection. */
export async function relayTlsReceiver(
  dial: RelayDial,
  options: RelayTlsReceiverOptions,
): Promise<PeerLink> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secret = crypto.getRandomValues(new Uint8Array(SECRET_LENGTH));
  let pem = "";
  const connect = async (id: number | undefined, signal: AbortSignal, reach = signal) => {
    const conn = await dial(id === undefined ? 0 : id + 1, reach, connectTcp);
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
  const control = await connect(
    undefined,
    limit.signal,
    reaching(limit.signal, options.reachSignal),
  );
  await awaitReady(control, limit.signal);
  return new TlsSession({
    role: "receiver",
    control,
    announceOwn: true,
    timeoutMs,
    dial: (id, signal) => connect(id, signal),
  });
}

/**
 * What bounds reaching the sender (the LAN's TCP connect, the relay's `relay-ready`): the link's
 * own deadline, and the receiver's fallback deadline when it has one.
 */
function reaching(limit: AbortSignal, reach: AbortSignal | undefined): AbortSignal {
  return reach ? AbortSignal.any([limit, reach]) : limit;
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
