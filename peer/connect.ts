import { withDeadline, withinDeadline } from "../async.ts";
import {
  CodeMismatchError,
  ConnectionLostError,
  NoPathError,
  P2pftError,
  ProtocolError,
} from "../errors.ts";
import { isRendezvousDatagram, relayHello, serverAnswers } from "../rendezvous/mod.ts";
import { runPakeHandshake } from "../pake/mod.ts";
import type { ByteStream } from "../transfer/mod.ts";
import { formatAddr } from "./addresses.ts";
import { certificateFingerprint, certificatePem, createPeerCertificate } from "./certificate.ts";
import { type TransferCode } from "./code.ts";
import { DatagramMux } from "./datagram_mux.ts";
import { bindPunchSockets } from "./_punch_socket.ts";
import { findPeer, type FoundPeer } from "./_find_peer.ts";
import { isProbeDatagram } from "./probe.ts";
import type { LinkEnd, PeerLink, Transport } from "./link.ts";
import { type Candidate, type CandidateSource, punch, type PunchOutcome } from "./punch.ts";
import { acceptPeer, dialPeer } from "./quic.ts";
import {
  BIRTHDAY_PROBES_PER_SECOND,
  BIRTHDAY_SOCKETS,
  type NatMapping,
  planPunch,
  type PunchPlan,
  type RelayMode,
} from "./strategy.ts";

/**
 * How long public candidates get only low-TTL probes (peer/PROTOCOL.md, "Port stealing"): it
 * must cover the gap between the two peers learning of each other, up to one register poll.
 */
const OPEN_MAPPING_MS = 400;

/**
 * How long `fail()` waits for the peer's side of the session end: its close
 * after reading our ERROR frame, or its reason once the link is gone.
 */
const PEER_END_DEADLINE_MS = 2_000;

/** How long a relayed side that lost its peer waits for the server to answer: is the relay up? */
const RELAY_CHECK_MS = 1_000;

/**
 * How long the PAKE may take once the link is up: two short messages each
 * way, so a peer that keeps the link alive but never answers is cut off here
 * (pake/PROTOCOL.md, "Security notes").
 */
export const PAKE_DEADLINE_MS = 10_000;

/** The nameplate we were paired on, how the peer was found and where it is. */
export interface PairedInfo {
  nameplate: string;
  /** Where the server saw the peer; found locally: the peer's first LAN address. */
  peer: Deno.NetAddr;
  found: "local" | "server";
}

/** Facts about the path the session runs on; the CLI words them. */
export interface PathFacts {
  path: PunchOutcome["path"];
  transport: Transport;
  remote: Deno.NetAddr;
  rttMs: number;
  /** Where the winning address came from: "private", "server", "peer-reflexive", "birthday", "relay". */
  candidate: CandidateSource;
  /** Whether this side ranked the answers ("self", the receiver) or followed the peer's choice. */
  chosenBy: "self" | "peer";
  /** Both NAT mappings, as the rendezvous server saw them. */
  nat: { self: NatMapping; peer: NatMapping };
  /** Whether direct addresses were probed at all (not with relay mode "only"). */
  triedDirect: boolean;
}

/** An authenticated connection to the peer, ready for the transfer. */
export interface PeerSession extends PathFacts, AsyncDisposable {
  openStream(): Promise<ByteStream>;
  acceptStream(): Promise<ByteStream>;
  /** Settles when the link is gone: with the peer's reason if it ended the session first. */
  readonly closed: Promise<LinkEnd | undefined>;
  /**
   * Ends the session after `error` and returns the error to report. The peer
   * learns `error`'s message; when the peer ended the session first (the
   * link is lost), the peer's reason is returned instead.
   */
  fail(error: unknown, options?: FailOptions): Promise<unknown>;
}

export interface FailOptions {
  /**
   * The error is ours and the transfer already told the peer (an ERROR frame):
   * wait for the peer to close once it read it, so the frame is not cut off.
   */
  peerWasTold?: boolean;
}

export interface ConnectOptions {
  role: "sender" | "receiver";
  /**
   * The rendezvous server, "host:port" already split, or several instances
   * sharing rooms, tried in turn; absent: local discovery only.
   */
  rendezvous?: { hostname: string; port: number } | { hostname: string; port: number }[];
  /** Also look for the peer on the local network (local/PROTOCOL.md). */
  local: boolean;
  /** Receiver: the code it was given. Sender: words to use, and a nameplate to ask for if any. */
  code: { nameplate?: string; words: string };
  /** Sender: called once with the full code (a room on the server, or a local nameplate). */
  onCode?: (code: TransferCode) => void;
  /** Called when the rendezvous server or local discovery paired us with the peer. */
  onPaired?: (paired: PairedInfo) => void;
  /** Called with what the user should know (a way of finding the peer failed). */
  onWarning?: (message: string) => void;
  /** Called once our NAT's mapping behaviour is known. */
  onNat?: (mapping: NatMapping) => void;
  /** Receiver: how long to wait for a sender that has not registered yet (default 0). */
  waitForSenderMs?: number;
  /** Receiver: called once when it starts waiting for the sender. */
  onWaitingForSender?: () => void;
  /** Whether to fall back to (or only use) the server's relay; default "auto". */
  relay?: RelayMode;
  punchTimeoutMs?: number;
  serverTimeoutMs?: number;
  /** Our rendezvous client id (default: a random one). */
  clientId?: Uint8Array;
  /** Sender: SHA-256 of the client id that may reopen this nameplate once it paired. */
  successor?: Uint8Array;
  signal?: AbortSignal;
}

/**
 * Pairs through the rendezvous server, punches a UDP path, opens QUIC on the
 * punched port and proves with SPAKE2 that the peer knows the same code.
 */
export async function connectPeer(options: ConnectOptions): Promise<PeerSession> {
  const opened = await openPeerLink(options);
  try {
    return await authenticate(opened.link, opened.facts, {
      role: options.role,
      words: options.code.words,
      nameplate: opened.nameplate,
      channelBinding: opened.channelBinding,
      lost: { relayedBy: opened.relayedBy },
      signal: options.signal,
    });
  } catch (error) {
    throw await endAfter(error, opened.link, {
      peer: options.role === "sender" ? "receiver" : "sender",
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
  /** On a relayed path: the rendezvous server whose relay carries the link. */
  relayedBy?: Deno.NetAddr;
}

/**
 * The steps of {@link connectPeer} before the PAKE: pairing, punching, the
 * link. Exported for tests that speak the PAKE by hand (tests/security/staller.ts).
 */
export async function openPeerLink(options: ConnectOptions): Promise<OpenedLink> {
  // The sender's local announcement answers repeated claims until the link is up.
  await using keepAlive = new AsyncDisposableStack();
  const certificate = options.role === "sender" ? await createPeerCertificate() : undefined;
  const sockets = await bindPunchSockets();
  const mux = new DatagramMux(sockets.socket);
  const port = mux.port;
  let pairing: FoundPeer;
  let punched: PunchOutcome;
  let plan: PunchPlan;
  try {
    const rendezvousChannel = mux.channel(isRendezvousDatagram);
    pairing = await findPeer(rendezvousChannel, {
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
      keepAlive,
      signal: options.signal,
    });
    plan = planPunch(pairing.nat, options.relay ?? "auto");
    const relayAddr = pairing.relay;
    const observedPeer = pairing.peer.observed;
    if (plan.direct === false && !relayAddr) {
      throw new NoPathError(
        `Cannot connect through the relay only: ${
          pairing.server
            ? `the rendezvous server ${formatAddr(pairing.server)} offers no relay`
            : "the peer was found on the local network, without a relay"
        }`,
      );
    }
    const candidates: Candidate[] = plan.direct
      ? [
        ...(observedPeer ? [{ addr: observedPeer, source: "server" } as const] : []),
        ...pairing.peer.candidates.map((addr): Candidate => ({ addr, source: "private" })),
      ]
      : [];
    punched = await punch(mux.channel(isProbeDatagram), {
      role: options.role,
      token: pairing.token,
      selfId: pairing.selfId,
      peerId: pairing.peer.id,
      candidates,
      certificate: certificate?.der,
      timeoutMs: options.punchTimeoutMs,
      spray: plan.birthday === "spray" && observedPeer
        ? { hostname: observedPeer.hostname, perRound: BIRTHDAY_PROBES_PER_SECOND / 10 }
        : undefined,
      extraSockets: plan.birthday === "sockets" && observedPeer
        ? { count: BIRTHDAY_SOCKETS, target: observedPeer }
        : undefined,
      relay: relayAddr && plan.relayAfterMs !== undefined
        ? {
          addr: relayAddr,
          afterMs: plan.relayAfterMs,
          open: (signal) =>
            relayHello(rendezvousChannel, {
              relay: relayAddr,
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
          (relayAddr ? "" : "; the rendezvous server offers no relay") +
          (plan.relayAfterMs === undefined && relayAddr
            ? "; relaying was turned off on this side"
            : ""),
      observedSelf: pairing.observed,
      localPort: port,
      sendLowTtl: sockets.sendLowTtl,
      openMappingMs: OPEN_MAPPING_MS,
      signal: options.signal,
    });
  } finally {
    // Raw UDP work ends here: QUIC binds the same port next.
    sockets.closeLowTtl();
    await mux.close();
  }
  const link = certificate
    ? await acceptPeer(punched.localPort, {
      certificate,
      expectedRemote: punched.remote,
      signal: options.signal,
    })
    : await dialPeer(punched.localPort, punched.remote, {
      peerCertificatePem: certificatePem(checkedCertificate(punched, pairing)),
      signal: options.signal,
    });
  const facts: PathFacts = {
    path: punched.path,
    transport: link.transport,
    remote: punched.remote,
    rttMs: punched.rttMs,
    candidate: punched.candidate,
    chosenBy: punched.chosenBy,
    nat: pairing.nat,
    triedDirect: plan.direct,
  };
  const channelBinding = certificate?.fingerprint ??
    certificateFingerprint(punched.peerCertificate!);
  const opened: OpenedLink = { link, facts, nameplate: pairing.nameplate, channelBinding };
  if (punched.path === "relay") opened.relayedBy = pairing.server;
  return opened;
}

async function authenticate(
  link: PeerLink,
  facts: PathFacts,
  options: {
    role: "sender" | "receiver";
    words: string;
    nameplate: string;
    channelBinding: Uint8Array;
    /** What `fail` needs to explain a lost link. */
    lost: { relayedBy?: Deno.NetAddr };
    signal?: AbortSignal;
  },
): Promise<PeerSession> {
  const peer = options.role === "sender" ? "receiver" : "sender";
  let pakeStream: ByteStream | undefined;
  const handshake = (async () => {
    pakeStream = options.role === "receiver" ? await link.openStream() : await link.acceptStream();
    await runPakeHandshake(pakeStream, {
      role: options.role,
      code: options.words,
      nameplate: options.nameplate,
      channelBinding: options.channelBinding,
      signal: options.signal,
    });
  })();
  try {
    await withDeadline(handshake, {
      timeoutMs: PAKE_DEADLINE_MS,
      message: `The ${peer} did not complete the PAKE within ${
        PAKE_DEADLINE_MS / 1000
      } s (PAKE phase)`,
      signal: options.signal,
    });
  } catch (error) {
    // The peer reaches the same verdict from our CONFIRM: let it read that
    // before the link closes (a closed QUIC connection drops unread data).
    if (error instanceof CodeMismatchError) await finishPakeStream(pakeStream!);
    throw error;
  }
  return {
    ...facts,
    openStream: () => link.openStream(),
    acceptStream: () => link.acceptStream(),
    closed: link.closed,
    fail: (error, failOptions) => endAfter(error, link, { peer, ...options.lost }, failOptions),
    [Symbol.asyncDispose]: () => link[Symbol.asyncDispose](),
  };
}

/**
 * Ends the link after `error` and returns the error to report: the peer's
 * reason when the link was lost because the peer ended it.
 */
async function endAfter(
  error: unknown,
  link: PeerLink,
  who: { peer: "sender" | "receiver"; relayedBy?: Deno.NetAddr },
  options?: FailOptions,
): Promise<unknown> {
  const { peer, relayedBy } = who;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ConnectionLostError) {
    // QUIC settles `closed` before any stream sees the loss, so a reason the
    // peer gave is already there; the deadline covers links that report it later.
    const end = await withinDeadline(link.closed, PEER_END_DEADLINE_MS);
    await link.close({ failed: true, message });
    if (!end && link.lostReason) {
      if (relayedBy && !(await serverAnswers(relayedBy, RELAY_CHECK_MS))) {
        return new ConnectionLostError(
          `The relay stopped: the rendezvous server ${
            formatAddr(relayedBy)
          } that relayed the link does not answer (${link.lostReason})`,
          { cause: error },
        );
      }
      return new ConnectionLostError(link.lostReason, { cause: error });
    }
    if (!end?.failed) return error;
    return new P2pftError(`The ${peer} stopped: ${end.message}`, { cause: error });
  }
  if (options?.peerWasTold) await withinDeadline(link.closed, PEER_END_DEADLINE_MS);
  await link.close({ failed: true, message });
  return error;
}

/**
 * Ends our side of the PAKE stream (FIN) and waits for the peer's FIN, which
 * it writes only after its own verdict, so it has read our CONFIRM.
 */
async function finishPakeStream(stream: ByteStream): Promise<void> {
  await stream.writable.close().catch(() => {});
  const reader = stream.readable.getReader();
  const drained = (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  await withinDeadline(drained, PEER_END_DEADLINE_MS);
  await reader.cancel().catch(() => {});
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
