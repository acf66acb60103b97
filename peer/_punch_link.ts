/**
 * The link phase with punching (connect.ts): probe the peer's candidates (and
 * the UDP relay when the plan says so), then set up the link on the path the
 * receiver chose: TLS on the LAN, QUIC on the punched port, or the TCP relay.
 */
import { formatAddr, P2pftError, ProtocolError } from "../base/mod.ts";
import { relayHello } from "../rendezvous/mod.ts";
import {
  BIRTHDAY_PROBES_PER_SECOND,
  BIRTHDAY_SOCKETS,
  type Candidate,
  isProbeDatagram,
  onLinkIpv6Prefixes,
  punch,
  type PunchOutcome,
  type PunchResult,
} from "./punch/mod.ts";
import { certificateFingerprint, type PeerCertificate } from "./cert/mod.ts";
import type { TransportChoice } from "./_choose_transport.ts";
import type { Won } from "./_first_link.ts";
import type { LocalEnd } from "./_local_end.ts";
import { receiverLinkAfterPunch } from "./_receiver_link.ts";
import { type Linked, observedIpv4, type Route } from "./_route.ts";
import { senderLinkAfterPunch } from "./_sender_link.ts";

/**
 * How long public candidates get only low-TTL probes (peer/PROTOCOL.md, "Port stealing"): it
 * must cover the gap between the two peers learning of each other, up to one register poll.
 */
const OPEN_MAPPING_MS = 400;

export interface PunchLinkOptions {
  end: LocalEnd;
  choice: TransportChoice;
  punchTimeoutMs?: number;
  signal?: AbortSignal;
}

/** What the sender's link race tells punching: the receiver's choice, and when to stop. */
type PunchHooks = { onChosen(chosen: PunchResult): void; settle: AbortSignal };

export async function linkAfterPunch(route: Route, options: PunchLinkOptions): Promise<Linked> {
  const { end } = options;
  const run = (hooks?: PunchHooks) =>
    punch(end.mux.channel(isProbeDatagram), punchOptions(route, options, hooks))
      .finally(() => end.closeUdp());
  const side = end.side;
  const { won, punched, channelBinding } = side.role === "sender"
    ? await senderAfterPunch(run, route, { ...options, certificate: side.certificate })
    : await receiverAfterPunch(run, route, options);
  const viaTcpRelay = won.kind === "relay-tls" && punched.path !== "relay";
  return {
    won,
    channelBinding,
    facts: {
      path: viaTcpRelay ? "relay" : punched.path,
      transport: won.link.transport,
      remote: won.kind === "relay-tls" && viaTcpRelay ? won.relay : punched.remote,
      rttMs: punched.rttMs,
      candidate: viaTcpRelay ? "relay" : punched.candidate,
      chosenBy: punched.chosenBy,
      nat: route.found.nat,
      triedDirect: route.plan.direct,
    },
  };
}

interface Punched {
  won: Won;
  punched: PunchOutcome;
  channelBinding: Uint8Array;
}

async function senderAfterPunch(
  run: (hooks: PunchHooks) => Promise<PunchOutcome>,
  route: Route,
  options: PunchLinkOptions & { certificate: PeerCertificate },
): Promise<Punched> {
  const { punched, ...won } = await senderLinkAfterPunch(run, {
    choice: options.choice,
    certificate: options.certificate,
    listener: options.end.listener,
    admit: (ips) => options.end.admit(ips),
    tcpRelay: route.tcpRelay,
    firstStreams: options.end.firstStreams,
    signal: options.signal,
  });
  return { won, punched, channelBinding: options.certificate.fingerprint };
}

async function receiverAfterPunch(
  run: () => Promise<PunchOutcome>,
  route: Route,
  options: PunchLinkOptions,
): Promise<Punched> {
  const punched = await run();
  const certificate = checkedCertificate(punched, route);
  const won = await receiverLinkAfterPunch(punched, certificate, {
    choice: options.choice,
    tcpRelay: route.tcpRelay,
    signal: options.signal,
  });
  return { won, punched, channelBinding: certificateFingerprint(certificate) };
}

function punchOptions(
  route: Route,
  options: PunchLinkOptions,
  hooks?: PunchHooks,
): Parameters<typeof punch>[1] {
  const { found, plan } = route;
  const { end } = options;
  const observed = route.observedPeer;
  const ipv4 = observedIpv4(route);
  const relay = found.relay;
  return {
    role: end.side.role,
    token: found.token,
    selfId: found.selfId,
    peerId: found.peer.id,
    relayOnly: !plan.direct,
    candidates: plan.direct
      ? [
        ...(observed ? [{ addr: observed, source: "server" } as const] : []),
        ...found.peer.candidates.map((addr): Candidate => ({ addr, source: "private" })),
      ]
      : [],
    certificate: end.side.certificate?.der,
    timeoutMs: options.punchTimeoutMs,
    spray: plan.birthday === "spray" && ipv4
      ? { hostname: ipv4.hostname, perRound: BIRTHDAY_PROBES_PER_SECOND / 10 }
      : undefined,
    extraSockets: plan.birthday === "sockets" && ipv4
      ? { count: BIRTHDAY_SOCKETS, target: ipv4 }
      : undefined,
    relay: relay && plan.relayAfterMs !== undefined
      ? {
        addr: relay,
        afterMs: plan.relayAfterMs,
        open: (signal: AbortSignal) =>
          relayHello(end.rendezvous, {
            relay,
            token: found.token,
            selfId: found.selfId,
            cookie: found.cookie,
            signal,
          }),
      }
      : undefined,
    natNote: found.found === "local"
      ? "the peer was found on the local network, so only its LAN addresses were tried"
      : plan.note +
        (relay ? "" : "; the rendezvous server offers no relay") +
        (plan.relayAfterMs === undefined && relay
          ? "; relaying was turned off on this side (a peer with --relay-only answers only through the relay)"
          : ""),
    observedSelf: found.observed,
    onLinkPrefixes: onLinkIpv6Prefixes(Deno.networkInterfaces()),
    localPort: end.port,
    sendLowTtl: end.sockets.sendLowTtl,
    openMappingMs: OPEN_MAPPING_MS,
    onChosen: hooks?.onChosen,
    settle: hooks?.settle,
    signal: options.signal,
  };
}

function checkedCertificate(punched: PunchOutcome, route: Route): Uint8Array {
  const der = punched.peerCertificate;
  if (!der || der.length === 0) {
    throw new ProtocolError(`The sender at ${formatAddr(punched.remote)} sent no certificate`);
  }
  const announced = route.found.peer.fingerprint;
  const actual = certificateFingerprint(der);
  if (announced && !announced.every((byte, index) => byte === actual[index])) {
    throw new P2pftError(
      `The sender's certificate at ${formatAddr(punched.remote)} is not the one it announced ` +
        `${
          route.found.found === "local" ? "on the local network" : "through the rendezvous server"
        }: someone may be in the middle; nothing was received`,
    );
  }
  return der;
}
