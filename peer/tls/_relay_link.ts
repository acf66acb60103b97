/**
 * The TLS link through the TCP relay (PROTOCOL.md, "Relay"): both sides dial the relay once per
 * connection (channel 0 the control connection, stream N channel N + 1); the sender is the TLS
 * server (node:tls) in place on what it dialled, the receiver the TLS client pinning it. Both
 * make the PAKE's stream beside the control connection, and the sender's first streams as soon as
 * the control connection's handshake said how many (ALPN `p2pft-relay/k`): none of them waits
 * for an OPEN and a relay dial after it.
 */
import {
  abortable,
  ConnectionLostError,
  deadline,
  equalBytes,
  fillFrom,
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
  clientChannel,
  DEFAULT_TIMEOUT_MS,
  reaching,
  readPreamble,
  READY,
} from "./_connect.ts";
import { dialMadeOrNew, PremadeStreams } from "./_premade.ts";
import { connectNode, type ServedChannel, serveTls } from "./_relay_server.ts";
import { TlsSession } from "./_session.ts";
import {
  CERTIFICATE_PREFACE_HEADER,
  decodeCertificatePrefaceHeader,
  encodeCertificatePreface,
  MAX_FIRST_STREAMS,
  type Preamble,
  RELAY_ALPNS,
  relayAlpn,
  relayFirstStreamsOf,
  SECRET_LENGTH,
} from "./_wire.ts";

/**
 * Opens one relayed TCP connection with `connect` (the sender's opens a node socket, the
 * receiver's a Deno one); channel 0 is the control connection, stream `id` is `id + 1`.
 */
export type RelayDial = <C extends RelayConn>(
  channel: number,
  signal: AbortSignal,
  connect: RelayConnect<C>,
) => Promise<C>;

/** The PAKE's stream: the receiver's first, made by both sides beside the control connection. */
const PAKE_STREAM = 1;

export interface RelayTlsSenderOptions {
  certificate: PeerCertificate;
  /**
   * The streams it opens first (the transfer's control stream and data streams,
   * `Offered.firstStreams`), whose channels both sides dial at once when the receiver offers the
   * relay's ALPN protocols; any later one is announced with OPEN. Default 1, at most 5; 0 picks
   * no ALPN protocol and announces every stream, as a sender before them did.
   */
  firstStreams?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A relayed connection the sender serves, and the preamble the receiver wrote on it. */
type Served = ServedChannel & { preamble: Preamble };

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
  const firstStreams = Math.min(Math.max(0, options.firstStreams ?? 1), MAX_FIRST_STREAMS);
  const serve = async (channelNumber: number, signal: AbortSignal): Promise<Served> => {
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
      alpn: channelNumber === 0 && firstStreams > 0 ? relayAlpn(firstStreams) : undefined,
    });
    const preamble = await abortable(readPreamble(channel), signal, { onAbort: channel.close });
    return { ...channel, preamble };
  };
  // An older receiver announces the PAKE's stream with OPEN and dials it then: this one waits for
  // it at the relay and is taken on that OPEN. Made streams live as long as the link, not the
  // attempt (`options.signal` ends once this link won the race): dropped when either fails.
  const premade = new PremadeStreams((id, signal) => serve(id + 1, signal));
  premade.make([PAKE_STREAM]);
  let control: Served;
  let ahead: boolean;
  try {
    using limit = deadline({
      signal: options.signal,
      timeoutMs,
      message: `The TLS link through the relay was not ready within ${timeoutMs / 1000} s`,
    });
    control = await serve(0, limit.signal);
    if (control.preamble.kind !== "control") {
      control.close();
      throw new ProtocolError(
        "The first relayed TLS connection is not the link's control connection",
      );
    }
    // The receiver offered the relay's ALPN protocols: it dials these channels at once too.
    ahead = control.alpnProtocol !== null;
    if (ahead) premade.make(firstIds(firstStreams));
    await writeAndRelease(control.stream.writable, READY).catch((error) => {
      control.close();
      throw error;
    });
  } catch (error) {
    premade.drop();
    throw error;
  }
  const secret = control.preamble.secret;
  const session = new TlsSession({
    role: "sender",
    control,
    announceOwn: true,
    firstStreams: ahead ? firstStreams : undefined,
    pakeStreamAhead: ahead,
    timeoutMs,
    dial: async (id, signal) => {
      const served = await premade.take(id, signal) ?? await serve(id + 1, signal);
      const got = served.preamble;
      if (got.kind !== "stream" || got.streamId !== id || !equalBytes(got.secret, secret)) {
        served.close();
        throw new ProtocolError(
          `Relayed TLS connection ${id + 1} is not stream ${id} of this link`,
        );
      }
      return served;
    },
  });
  session.closed.finally(() => premade.drop());
  return session;
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
   * `timeoutMs`, as on the LAN (`DialTlsPeerOptions.reachSignal`).
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
  // The sender's certificate, from channel 0's preface: a stream's TLS handshake waits for it.
  const pinned = Promise.withResolvers<string>();
  pinned.promise.catch(() => {});
  const connect = async (id: number, signal: AbortSignal, preamble?: Preamble) => {
    const conn = await dial(id + 1, signal, connectTcp);
    const pem = await abortable(pinned.promise, signal).catch((error) => {
      conn.close();
      throw error;
    });
    return await clientChannel(conn, { pem, preamble, where: "the relay", signal });
  };
  const premade = new PremadeStreams(connect);
  premade.make([PAKE_STREAM]);
  let control;
  let firstStreams: number | undefined;
  try {
    using limit = deadline({
      signal: options.signal,
      timeoutMs,
      message: `The TLS link through the relay was not ready within ${timeoutMs / 1000} s`,
    });
    const conn = await dial(0, reaching(limit.signal, options.reachSignal), connectTcp);
    const pem = await pinCertificate(conn, options.peerFingerprint, limit.signal);
    pinned.resolve(pem);
    control = await clientChannel(conn, {
      pem,
      alpn: RELAY_ALPNS,
      preamble: { kind: "control", secret, streamId: 0 },
      where: "the relay",
      signal: limit.signal,
    });
    // The sender's first streams, dialled while READY comes (the sender dials them before it
    // writes READY): through a distant relay that is a round trip less before each is up.
    firstStreams = relayFirstStreamsOf(control.alpnProtocol);
    premade.make(firstIds(firstStreams ?? 0));
    await awaitReady(control, limit.signal);
  } catch (error) {
    pinned.reject(error);
    premade.drop();
    throw error;
  }
  const session = new TlsSession({
    role: "receiver",
    control,
    announceOwn: true,
    firstStreams,
    pakeStreamAhead: firstStreams !== undefined,
    timeoutMs,
    dial: dialMadeOrNew(premade, { secret, connect }),
  });
  session.closed.finally(() => premade.drop());
  return session;
}

/** The ids of the sender's first `count` streams: 0, 2, .., 2 count - 2. */
function firstIds(count: number): number[] {
  return Array.from({ length: count }, (_, index) => 2 * index);
}

/**
 * Reads the certificate preface on channel 0 and returns the certificate, PEM, if its
 * fingerprint is the one the sender announced; closes `conn` otherwise.
 */
async function pinCertificate(
  conn: Deno.Conn,
  fingerprint: Uint8Array,
  signal: AbortSignal,
): Promise<string> {
  const der = await abortable(readCertificatePreface(conn), signal, {
    onAbort: () => conn.close(),
  }).catch((error) => {
    conn.close();
    throw error;
  });
  if (!equalBytes(certificateFingerprint(der), fingerprint)) {
    conn.close();
    throw new P2pftError(
      "The certificate that came through the relay is not the one the sender announced " +
        "through the rendezvous server: someone may be in the middle; nothing was received",
    );
  }
  return certificatePem(der);
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
