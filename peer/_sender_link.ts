/**
 * The sender's side of setting up the link: it accepts whichever link the
 * receiver sets up first (peer/PROTOCOL.md, "Transport choice"): TLS on its
 * punch port's TCP twin, QUIC on the punched port, or the TCP relay, which it
 * dials itself once the receiver chose a path the relay serves.
 */
import { formatAddr, NoPathError, TimeoutError, withDeadline } from "../base/mod.ts";
import type { PeerCertificate } from "./cert/mod.ts";
import type { PunchOutcome, PunchResult } from "./punch/mod.ts";
import { acceptPeer } from "./quic/mod.ts";
import { relayTlsSender, type TlsPeerListener } from "./tls/mod.ts";
import { linkAttempts, type TransportChoice } from "./_choose_transport.ts";
import { LinkRace, type Won } from "./_first_link.ts";
import type { TcpRelay } from "./_route.ts";

/** No deadline of its own: the race (and the caller's signal) ends the accept. */
const ACCEPT_FOREVER_MS = 2 ** 31 - 1;
/**
 * How long a sender without QUIC waits for the receiver's TCP link once punching chose the path:
 * as long as QUIC's accept (peer/quic), which bounds the race otherwise.
 */
const TCP_LINK_AFTER_PUNCH_MS = 15_000;

export interface SenderLinkOptions {
  choice: TransportChoice;
  certificate: PeerCertificate;
  /** The TLS listener on the punch port's number (absent with `--transport quic`). */
  listener?: TlsPeerListener;
  /** Lets TLS connections from these IPs through the listener. */
  admit(ips: string[]): void;
  /** The TCP relay, when the server offers it and relaying is allowed. */
  tcpRelay?: TcpRelay;
  /** The streams this sender opens first, when its offer is known (`Offered.firstStreams`). */
  firstStreams?: number;
  signal?: AbortSignal;
}

/** The link, and the path punching chose (`localPort` is the punch port). */
export type SenderLink = Won & { punched: PunchOutcome };

/**
 * With punching: `punch` runs it, told when the receiver chose a path and
 * stopped early (`settle`) once a TLS link is up; the UDP socket keeps
 * answering probes until then, so the receiver's `chosen` gets its ack.
 */
export async function senderLinkAfterPunch(
  punch: (hooks: { onChosen(chosen: PunchResult): void; settle: AbortSignal }) => Promise<
    PunchOutcome
  >,
  options: SenderLinkOptions,
): Promise<SenderLink> {
  const race = new LinkRace(options.signal);
  let relayStarted = false;
  const startRelay = () => {
    if (relayStarted || !options.tcpRelay) return;
    relayStarted = true;
    addRelay(race, options.tcpRelay, options);
  };
  try {
    if (options.listener) {
      race.add(
        { kind: "lan-tls" },
        options.listener.accept({ timeoutMs: ACCEPT_FOREVER_MS, signal: race.signal }),
      );
    }
    const punched = await punch({
      onChosen(chosen) {
        options.admit([chosen.remote.hostname]);
        if (linkAttempts(chosen.path, options.choice).includes("relay-tls")) startRelay();
      },
      settle: race.signal,
    });
    const attempts = linkAttempts(punched.path, options.choice);
    if (attempts.includes("relay-tls")) startRelay();
    // A TLS link that is already up (it stopped punching) needs no QUIC endpoint beside it.
    if (attempts.includes("quic") && !race.winner) {
      race.add(
        { kind: "quic" },
        acceptPeer(punched.localPort, {
          certificate: options.certificate,
          expectedRemote: punched.remote,
          signal: race.signal,
        }).catch((error) => {
          throw options.choice === "quic" ? tcpOnlyReceiver(error) : error;
        }),
      );
    }
    // Without QUIC (--transport tcp) nothing else bounds the wait for the receiver's link.
    const won = attempts.includes("quic") || race.winner
      ? first(race, options.signal)
      : withDeadline(first(race, options.signal), {
        timeoutMs: TCP_LINK_AFTER_PUNCH_MS,
        message: `The receiver did not connect over TCP from ${formatAddr(punched.remote)} within ${
          TCP_LINK_AFTER_PUNCH_MS / 1000
        } s; it may take QUIC only, as with --transport quic: both sides need a transport in common (run both without --transport)`,
      });
    return { ...await won, punched };
  } finally {
    await disposeUnused(race, options.listener);
  }
}

/**
 * With `--transport quic`, a receiver that chose a path (so it runs) and never dialled QUIC on it
 * most likely runs TCP only: say so beside the timeout.
 */
function tcpOnlyReceiver(error: unknown): unknown {
  if (!(error instanceof TimeoutError)) return error;
  return new TimeoutError(
    `${error.message}; it may take TCP only, as with --transport tcp: both sides need a transport in common (run both without --transport)`,
    { cause: error },
  );
}

/** Without punching (a side registered over TCP, or relay only): LAN TLS or the TCP relay. */
export async function senderLinkOverTcp(
  receiverIps: string[],
  options: SenderLinkOptions,
): Promise<Won> {
  const race = new LinkRace(options.signal);
  try {
    if (options.listener && receiverIps.length > 0) {
      options.admit(receiverIps);
      race.add(
        { kind: "lan-tls" },
        options.listener.accept({ timeoutMs: ACCEPT_FOREVER_MS, signal: race.signal }),
      );
    }
    if (options.tcpRelay) addRelay(race, options.tcpRelay, options);
    if (race.size === 0) {
      throw new NoPathError(
        "No TCP path to the receiver: it is not on a private network we can reach and the server offers no TCP relay",
      );
    }
    return await first(race, options.signal);
  } finally {
    await disposeUnused(race, options.listener);
  }
}

function addRelay(
  race: LinkRace,
  relay: TcpRelay,
  { certificate, firstStreams }: SenderLinkOptions,
): void {
  race.add(
    { kind: "relay-tls", relay: relay.addr },
    relayTlsSender(relay.dial, { certificate, firstStreams, signal: race.signal }),
  );
}

async function first(race: LinkRace, signal: AbortSignal | undefined): Promise<Won> {
  try {
    return await race.first();
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  }
}

/** The listener lives on with a TLS link it accepted; otherwise it closes now. */
async function disposeUnused(race: LinkRace, listener: TlsPeerListener | undefined) {
  const won = race.winner;
  race.abandon();
  if (listener && won?.kind !== "lan-tls") await listener[Symbol.asyncDispose]();
}
