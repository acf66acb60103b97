import { formatAddr, NoPathError, P2pftError, ProtocolError } from "../base/mod.ts";
import { dialTcpRelay, isRendezvousDatagram, relayHello } from "../rendezvous/mod.ts";
import {
  BIRTHDAY_PROBES_PER_SECOND,
  BIRTHDAY_SOCKETS,
  type Candidate,
  DatagramMux,
  hasGlobalIpv6,
  isIpv6,
  isProbeDatagram,
  localCandidates,
  type NatMapping,
  onLinkIpv6Prefixes,
  planPunch,
  punch,
  type PunchOutcome,
  type PunchResult,
  type RelayMode,
} from "./punch/mod.ts";
import { certificateFingerprint, createPeerCertificate } from "./cert/mod.ts";
import { type TransferCode } from "./code.ts";
import type { PeerLink } from "./link/mod.ts";
import type { RelayDial } from "./tls/mod.ts";
import type { TransportChoice } from "./_choose_transport.ts";
import type { Won } from "./_first_link.ts";
import { bindPunchPort } from "./_punch_port.ts";
import { EarlyShare } from "./_early_share.ts";
import { receiverLinkAfterPunch } from "./_receiver_link.ts";
import { findPeer, type FoundPeer, type PairedInfo, type ServerName } from "./find/mod.ts";
import { senderLinkAfterPunch } from "./_sender_link.ts";
import { receiverOverTcp, senderOverTcp } from "./_tcp_only.ts";
import {
  authenticate,
  endAfter,
  type PathFacts,
  type PeerSession,
  type RelayedBy,
} from "./_session.ts";

export type { FailOptions, PathFacts, PeerSession } from "./_session.ts";
export type { PairedInfo } from "./find/mod.ts";
export { PAKE_DEADLINE_MS } from "./_session.ts";

/**
 * How long public candidates get only low-TTL probes (peer/PROTOCOL.md, "Port stealing"): it
 * must cover the gap between the two peers learning of each other, up to one register poll.
 */
const OPEN_MAPPING_MS = 400;

export interface ConnectOptions {
  role: "sender" | "receiver";
  /**
   * The rendezvous server, "host:port" already split, or several instances
   * sharing rooms, tried in turn; absent: local discovery only.
   */
  rendezvous?: ServerName | ServerName[];
  /** Also look for the peer on the local network (local/PROTOCOL.md). */
  local: boolean;
  /** Receiver: the code it was given. Sender: words to use, and a nameplate to ask for if any. */
  code: { nameplate?: string; words: string };
  /** Sender: called once with the full code (a room on the server, or a local nameplate). */
  onCode?: (code: TransferCode) => void;
  /** Called when the rendezvous server or local discovery paired us with the peer. */
  onPaired?: (paired: PairedInfo) => void;
  /** Called once our NAT's mapping behaviour is known. */
  onNat?: (mapping: NatMapping) => void;
  /** Called with what the user should know (UDP is blocked, a way of finding the peer failed). */
  onWarning?: (message: string) => void;
  /** Receiver: how long to wait for a sender that has not registered yet (default 0). */
  waitForSenderMs?: number;
  /** Receiver: called once when it starts waiting for the sender. */
  onWaitingForSender?: () => void;
  /** Whether to fall back to (or only use) the server's relay; default "auto". */
  relay?: RelayMode;
  /** Which transport the link may use (peer/PROTOCOL.md, "Transport choice"); default "auto". */
  transport?: TransportChoice;
  /** Register with the rendezvous server over TCP from the start. */
  tcp?: boolean;
  punchTimeoutMs?: number;
  serverTimeoutMs?: number;
  /** Our rendezvous client id (default: a random one). */
  clientId?: Uint8Array;
  /** Sender: SHA-256 of the client id that may reopen this nameplate once it paired. */
  successor?: Uint8Array;
  signal?: AbortSignal;
}

/**
 * Pairs through the rendezvous server (over UDP, or TCP where UDP gets no
 * answer), finds a path (punching, or TCP only), sets up the link on it (TLS
 * over TCP on the LAN and through the TCP relay, QUIC on a punched public
 * path) and proves with SPAKE2 that the peer knows the same code.
 */
export async function connectPeer(options: ConnectOptions): Promise<PeerSession> {
  const opened = await openPeerLink(options);
  try {
    return await authenticate(opened.link, opened.facts, {
      role: options.role,
      words: options.code.words,
      nameplate: opened.nameplate,
      channelBinding: opened.channelBinding,
      started: opened.early?.take(opened.channelBinding),
      lost: { relayedBy: opened.relayedBy },
      signal: options.signal,
    });
  } catch (error) {
    throw await endAfter(error, opened.link, {
      peer: peerRole(options.role),
      relayedBy: opened.relayedBy,
    });
  }
}

/** A link to the peer before the PAKE: what the PAKE binds to, and the path's facts. */
export interface OpenedLink {
  link: PeerLink;
  facts: PathFacts;
  nameplate: string;
  /** The sender's certificate fingerprint, which the PAKE's key confirmation covers. */
  channelBinding: Uint8Array;
  /** On a relayed path: the relay that carries the link, asked why once it is lost. */
  relayedBy?: RelayedBy;
  /** This side's SPAKE2 share, started once pairing gave everything it depends on. */
  early?: EarlyShare;
}

/**
 * The steps of {@link connectPeer} before the PAKE: pairing, finding a path,
 * the link. Exported for tests that speak the PAKE by hand (tests/security/staller.ts).
 */
export async function openPeerLink(options: ConnectOptions): Promise<OpenedLink> {
  // The sender's local announcement answers repeated claims until the link is up.
  await using keepAlive = new AsyncDisposableStack();
  const choice = options.transport ?? "auto";
  const sender = options.role === "sender";
  const certificate = sender ? await createPeerCertificate() : undefined;
  const admitted = new Set<string>();
  let firstAdmitted: Deno.NetAddr | undefined;
  const { sockets, listener } = await bindPunchPort({
    certificate: choice === "quic" ? undefined : certificate,
    admit: (remote) => {
      if (!admitted.has(remote.hostname)) return false;
      firstAdmitted ??= remote;
      return true;
    },
  });
  const mux = new DatagramMux(sockets.socket, { ipv6: sockets.socket6 });
  const port = mux.port;
  let udpOpen = true;
  const closeUdp = async () => {
    if (!udpOpen) return;
    udpOpen = false;
    // Raw UDP work ends here: QUIC may bind the same port next.
    sockets.closeLowTtl();
    await mux.close();
  };
  let won: Won | undefined;
  let early: EarlyShare | undefined;
  let channelBindingOf: Uint8Array | undefined;
  try {
    const rendezvousChannel = mux.channel(isRendezvousDatagram);
    const pairing: FoundPeer = await findPeer(rendezvousChannel, {
      role: options.role,
      rendezvous: options.rendezvous,
      local: options.local,
      nameplate: options.code.nameplate,
      port,
      fingerprint: certificate?.fingerprint,
      onNameplate: (nameplate) => options.onCode?.({ nameplate, words: options.code.words }),
      onPaired: options.onPaired,
      onNat: options.onNat,
      onWarning: options.onWarning,
      waitForSenderMs: options.waitForSenderMs,
      onWaitingForSender: options.onWaitingForSender,
      serverTimeoutMs: options.serverTimeoutMs,
      clientId: options.clientId,
      successor: options.successor,
      tcp: options.tcp ?? false,
      keepAlive,
      signal: options.signal,
    });
    const expectedBinding = certificate?.fingerprint ?? pairing.peer.fingerprint;
    if (expectedBinding) {
      early = new EarlyShare({
        role: options.role,
        code: options.code.words,
        nameplate: pairing.nameplate,
        channelBinding: expectedBinding,
      });
    }
    const observedPeer = pairing.peer.observed;
    // Birthday punching is for an IPv4 NAT's unknown ports.
    const observedPeerIpv4 = observedPeer && !isIpv6(observedPeer.hostname)
      ? observedPeer
      : undefined;
    const relayMode = options.relay ?? "auto";
    const ipv6 = sockets.socket6 !== undefined &&
      hasGlobalIpv6([...localCandidates(port), ...(pairing.observed ? [pairing.observed] : [])]) &&
      hasGlobalIpv6([...pairing.peer.candidates, ...(observedPeer ? [observedPeer] : [])]);
    const plan = planPunch({ ...pairing.nat, ipv6 }, relayMode);
    if (plan.direct === false && !pairing.relay) {
      throw new NoPathError(
        `Cannot connect through the relay only: ${
          pairing.server
            ? `the rendezvous server ${formatAddr(pairing.server)} offers no relay`
            : "the peer was found on the local network, without a relay"
        }`,
      );
    }
    const relayTcp: Deno.NetAddr | undefined = pairing.relay && relayMode !== "never"
      ? { ...pairing.relay, transport: "tcp" }
      : undefined;
    const relayDial: RelayDial | undefined = relayTcp && choice !== "quic"
      ? (channel, signal) =>
        dialTcpRelay(relayTcp, {
          token: pairing.token,
          selfId: pairing.selfId,
          channel,
          signal,
        })
      : undefined;
    const overTcp = pairing.transport.self === "tcp" || pairing.transport.peer === "tcp";
    if (overTcp && choice === "quic") {
      throw new NoPathError(
        `--transport quic needs UDP between the peers, but ${
          pairing.transport.self === "tcp" ? "this side" : `the ${peerRole(options.role)}`
        } reached the rendezvous server over TCP only`,
      );
    }
    // The UDP socket stays open: with --relay-only, punching through the UDP relay is the fallback.
    let facts: PathFacts | undefined;
    if (pairing.found === "server" && (overTcp || (!plan.direct && relayDial))) {
      const common = { pairing, plan, relayTcp, relayDial };
      try {
        ({ won, facts } = sender
          ? await senderOverTcp(common, {
            certificate: certificate!,
            listener,
            admit: (ips) => ips.forEach((ip) => admitted.add(ip)),
            firstAdmitted: () => firstAdmitted,
            choice,
            signal: options.signal,
          })
          : await receiverOverTcp(common, { choice, signal: options.signal }));
      } catch (error) {
        // Relay only and the TCP relay failed: the UDP relay (and QUIC) may still work.
        if (overTcp || options.signal?.aborted) throw error;
      }
    }
    if (!facts) {
      const run = (hooks?: { onChosen(chosen: PunchResult): void; settle: AbortSignal }) =>
        punch(mux.channel(isProbeDatagram), {
          role: options.role,
          token: pairing.token,
          selfId: pairing.selfId,
          peerId: pairing.peer.id,
          candidates: plan.direct
            ? [
              ...(observedPeer ? [{ addr: observedPeer, source: "server" } as const] : []),
              ...pairing.peer.candidates.map((addr): Candidate => ({ addr, source: "private" })),
            ]
            : [],
          certificate: certificate?.der,
          timeoutMs: options.punchTimeoutMs,
          spray: plan.birthday === "spray" && observedPeerIpv4
            ? { hostname: observedPeerIpv4.hostname, perRound: BIRTHDAY_PROBES_PER_SECOND / 10 }
            : undefined,
          extraSockets: plan.birthday === "sockets" && observedPeerIpv4
            ? { count: BIRTHDAY_SOCKETS, target: observedPeerIpv4 }
            : undefined,
          relay: pairing.relay && plan.relayAfterMs !== undefined
            ? {
              addr: pairing.relay,
              afterMs: plan.relayAfterMs,
              open: (signal) =>
                relayHello(rendezvousChannel, {
                  relay: pairing.relay!,
                  token: pairing.token,
                  selfId: pairing.selfId,
                  cookie: pairing.cookie,
                  signal,
                }),
            }
            : undefined,
          natNote: pairing.found === "local"
            ? "the peer was found on the local network, so only its LAN addresses were tried"
            : plan.note +
              (pairing.relay ? "" : "; the rendezvous server offers no relay") +
              (plan.relayAfterMs === undefined && pairing.relay
                ? "; relaying was turned off on this side"
                : ""),
          observedSelf: pairing.observed,
          onLinkPrefixes: onLinkIpv6Prefixes(Deno.networkInterfaces()),
          localPort: port,
          sendLowTtl: sockets.sendLowTtl,
          openMappingMs: OPEN_MAPPING_MS,
          onChosen: hooks?.onChosen,
          settle: hooks?.settle,
          signal: options.signal,
        }).finally(closeUdp);
      let punched: PunchOutcome;
      if (sender) {
        const result = await senderLinkAfterPunch(run, {
          choice,
          certificate: certificate!,
          listener,
          admit: (ips) => ips.forEach((ip) => admitted.add(ip)),
          relayDial,
          signal: options.signal,
        });
        ({ punched } = result);
        won = result;
      } else {
        punched = await run();
        won = await receiverLinkAfterPunch(punched, checkedCertificate(punched, pairing), {
          choice,
          relayDial,
          signal: options.signal,
        });
      }
      const viaTcpRelay = won.kind === "relay-tls" && punched.path !== "relay";
      facts = {
        path: viaTcpRelay ? "relay" : punched.path,
        transport: won.link.transport,
        remote: viaTcpRelay ? relayTcp! : punched.remote,
        rttMs: punched.rttMs,
        candidate: viaTcpRelay ? "relay" : punched.candidate,
        chosenBy: punched.chosenBy,
        nat: pairing.nat,
        triedDirect: plan.direct,
      };
      if (!sender) channelBindingOf = certificateFingerprint(punched.peerCertificate!);
    } else if (!sender) {
      channelBindingOf = pairing.peer.fingerprint!;
    }
    await closeUdp();
    const opened: OpenedLink = {
      link: won!.link,
      facts,
      nameplate: pairing.nameplate,
      channelBinding: certificate?.fingerprint ?? channelBindingOf!,
      early,
    };
    // The relay is the one `paired` named: after a failover, or with a shared
    // store, not necessarily the first server of the list. Once the link is
    // lost it is asked whether it stopped or ended the session (a cap says
    // which); the UDP relay over UDP, which a side on TCP only cannot use.
    const pairingIds = { token: pairing.token, selfId: pairing.selfId };
    if (won!.kind === "relay-tls") {
      opened.relayedBy = { addr: relayTcp!, pairing: pairingIds };
    } else if (facts.path === "relay" && pairing.transport.self === "udp") {
      opened.relayedBy = { addr: pairing.relay!, pairing: pairingIds };
    }
    return opened;
  } catch (error) {
    early?.[Symbol.dispose]();
    await closeUdp();
    if (won?.kind !== "lan-tls") await listener?.[Symbol.asyncDispose]();
    throw error;
  }
}

function peerRole(role: "sender" | "receiver"): "sender" | "receiver" {
  return role === "sender" ? "receiver" : "sender";
}

function checkedCertificate(punched: PunchOutcome, pairing: FoundPeer): Uint8Array {
  const der = punched.peerCertificate;
  if (!der || der.length === 0) {
    throw new ProtocolError(`The sender at ${formatAddr(punched.remote)} sent no certificate`);
  }
  const announced = pairing.peer.fingerprint;
  const actual = certificateFingerprint(der);
  if (announced && !announced.every((byte, index) => byte === actual[index])) {
    throw new P2pftError(
      `The sender's certificate at ${formatAddr(punched.remote)} is not the one it announced ` +
        `${
          pairing.found === "local" ? "on the local network" : "through the rendezvous server"
        }: someone may be in the middle; nothing was received`,
    );
  }
  return der;
}
