/**
 * TLS over TCP between the peers (PROTOCOL.md): on the LAN the
 * sender listens and the receiver dials; through the TCP relay both dial out.
 * The sender is always the TLS server (it holds the certificate), the
 * receiver the TLS client pinning it. Each stream is its own TLS connection;
 * a control connection made first carries OPEN, CLOSE and PING.
 */
import { ConnectionLostError, deadline, formatAddr } from "../../base/mod.ts";
import type { PeerLink } from "../link/mod.ts";
import {
  awaitReady,
  type ClientChannel,
  clientChannel,
  DEFAULT_TIMEOUT_MS,
  reaching,
} from "./_connect.ts";
import { dialMadeOrNew, PremadeStreams } from "./_premade.ts";
import { sharingFirstStream } from "./_first_stream.ts";
import { STREAMS_AHEAD, TlsSession } from "./_session.ts";
import { firstStreamsOf, NO_DELAY_ALPNS, type Preamble, SECRET_LENGTH } from "./_wire.ts";

export { listenTlsPeer, listenTlsPeerNoDelay } from "./_listen.ts";
export { relayTlsReceiver, relayTlsSender } from "./_relay_link.ts";
export type { RelayDial, RelayTlsReceiverOptions, RelayTlsSenderOptions } from "./_relay_link.ts";
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
  const premade = new PremadeStreams((_id, signal) => connect(signal), limit.signal);
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
    dial: dialMadeOrNew(premade, {
      secret,
      connect: (_id, signal, preamble) => connect(signal, preamble),
    }),
  });
  session.closed.finally(() => premade.drop());
  // `/0`: our first stream (the PAKE's) is the sender's first one too (`_first_stream.ts`).
  return firstStreams === 0 ? sharingFirstStream(session, "receiver") : session;
}
