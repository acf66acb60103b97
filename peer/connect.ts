import { abortable, withinDeadline } from "../base/mod.ts";
import { type TransferCode } from "./code.ts";
import type { PeerLink } from "./link/mod.ts";
import type { RelayMode } from "./punch/mod.ts";
import type { TransportChoice } from "./_choose_transport.ts";
import { EarlyShare } from "./_early_share.ts";
import { findPeer, type FindPeerOptions, type FoundPeer } from "./find/mod.ts";
import { LocalEnd, type Offered, type Side } from "./_local_end.ts";
import { linkAfterPunch } from "./_punch_link.ts";
import { foundByServer, type Linked, planRoute, type Route } from "./_route.ts";
import { linkOverTcp } from "./_tcp_only.ts";
import { warmTlsClient } from "./tls/mod.ts";
import {
  authenticate,
  endAfter,
  type PathFacts,
  type PeerSession,
  type RelayedBy,
} from "./_session.ts";

export type { FailOptions, PathFacts, PeerSession } from "./_session.ts";
export type { Offered } from "./_local_end.ts";
export type { PairedInfo } from "./find/mod.ts";
export { PAKE_DEADLINE_MS } from "./_session.ts";

/** What finding the peer takes from these options as it is (documented in FindPeerOptions). */
type ForFinding = Pick<
  FindPeerOptions,
  | "role"
  | "rendezvous"
  | "local"
  | "onPaired"
  | "onNat"
  | "onWarning"
  | "waitForSenderMs"
  | "onWaitingForSender"
  | "serverTimeoutMs"
  | "clientId"
  | "successor"
  | "signal"
>;

export interface ConnectOptions extends ForFinding {
  /** Receiver: the code it was given. Sender: words to use, and a nameplate to ask for if any. */
  code: { nameplate?: string; words: string };
  /** Sender: called once with the full code (a room on the server, or a local nameplate). */
  onCode?: (code: TransferCode) => void;
  /** Whether to fall back to (or only use) the server's relay; default "auto". */
  relay?: RelayMode;
  /** Which transport the link may use (peer/PROTOCOL.md, "Transport choice"); default "auto". */
  transport?: TransportChoice;
  /** Register with the rendezvous server over TCP from the start. */
  tcp?: boolean;
  /**
   * Sender: what it will offer, when its size is known before it connects (not a stream of
   * unknown size). A small offer's LAN TLS link is served with Nagle's algorithm off.
   */
  offer?: Offered;
  punchTimeoutMs?: number;
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
 * The steps of {@link connectPeer} before the PAKE, one phase each: this
 * side's end, finding the peer, the route pairing allows, the link (over TCP
 * only, or after punching). Exported for tests that speak the PAKE by hand
 * (tests/security/staller.ts).
 */
export async function openPeerLink(options: ConnectOptions): Promise<OpenedLink> {
  // The sender's local announcement answers repeated claims until the link is up.
  await using keepAlive = new AsyncDisposableStack();
  const choice = options.transport ?? "auto";
  await using end = await LocalEnd.open(options.role, choice, options.offer);
  // The receiver's link always needs a TLS or QUIC client, whose first one blocks the thread for
  // tens of ms (tls/_warm_client.ts): made while it waits for its sender, or else once paired,
  // before punching (blocking during punching would reorder the acks it reads), while the sender
  // learns of the pairing and makes its SPAKE2 share. Best effort: a failure here only leaves
  // that cost where it was.
  let warming: Promise<void> | undefined;
  const warm = () => {
    if (options.role === "receiver") warming ??= warmTlsClient().catch(() => {});
    return warming;
  };
  keepAlive.defer(() => warming);
  const found = await findPeer(end.rendezvous, {
    ...options,
    nameplate: options.code.nameplate,
    port: end.port,
    fingerprint: end.side.certificate?.fingerprint,
    // The peer then joins the TCP relay at once; with QUIC only we take the UDP relay, which
    // the peer reaches by punching anyway, so it is not told.
    relayOnly: options.relay === "only" && choice !== "quic",
    onNameplate: (nameplate) => options.onCode?.({ nameplate, words: options.code.words }),
    onWaitingForSender: () => {
      warm();
      options.onWaitingForSender?.();
    },
    tcp: options.tcp ?? false,
    keepAlive,
  });
  await warm();
  // Disposed on failure; on success the caller takes it (`move`).
  using unused = new DisposableStack();
  const early = earlyShare(end.side, found, options.code.words);
  if (early) unused.use(early);
  const route = planRoute(found, {
    role: options.role,
    relay: options.relay ?? "auto",
    choice,
    port: end.port,
    ipv6Socket: end.sockets.socket6 !== undefined,
  });
  const linked = await linkOrTell(route, {
    end,
    choice,
    punchTimeoutMs: options.punchTimeoutMs,
    signal: options.signal,
  });
  if (linked.won.kind === "lan-tls") end.keepListener();
  await end.closeUdp();
  unused.move();
  return {
    link: linked.won.link,
    facts: linked.facts,
    nameplate: found.nameplate,
    channelBinding: linked.channelBinding,
    relayedBy: relayedBy(linked, found),
    early,
  };
}

/**
 * The link phase: over TCP only where a side is on TCP only (or relay only
 * and the TCP relay is there), else after punching. With relay only, punching
 * through the UDP relay is the fallback when the TCP relay fails.
 */
async function link(
  route: Route,
  options: {
    end: LocalEnd;
    choice: TransportChoice;
    punchTimeoutMs?: number;
    signal?: AbortSignal;
  },
): Promise<Linked> {
  if (foundByServer(route) && (route.overTcp || (!route.plan.direct && route.tcpRelay))) {
    try {
      return await linkOverTcp(route, options);
    } catch (error) {
      if (route.overTcp || options.signal?.aborted) throw error;
    }
  }
  return await linkAfterPunch(route, options);
}

/**
 * How long a side stopped between pairing and the link (Ctrl-C) goes on setting up the link
 * its peer is making, to end it with the reason: the peer then says "The sender stopped:
 * Interrupted" at once, instead of waiting out its own deadlines for a link that never comes
 * and blaming a QUIC handshake or the path.
 */
const TELL_PEER_MS = 2_000;

/** {@link link}, which on a stop of ours ends the link (if it comes within TELL_PEER_MS) with why. */
async function linkOrTell(
  route: Route,
  options: Parameters<typeof link>[1],
): Promise<Linked> {
  const own = new AbortController();
  const linking = link(route, { ...options, signal: own.signal });
  try {
    return await abortable(linking, options.signal);
  } catch (error) {
    // A failure of the link itself has left nothing to tell the peer through.
    const done = linking.catch(() => undefined);
    await withinDeadline(done, TELL_PEER_MS);
    own.abort(error);
    const message = error instanceof Error ? error.message : String(error);
    await (await done)?.won.link.close({ failed: true, message });
    throw error;
  }
}

/** This side's SPAKE2 share, started now when the link's channel binding is already known. */
function earlyShare(side: Side, found: FoundPeer, words: string): EarlyShare | undefined {
  const channelBinding = side.certificate?.fingerprint ?? found.peer.fingerprint;
  if (!channelBinding) return undefined;
  return new EarlyShare({
    role: side.role,
    code: words,
    nameplate: found.nameplate,
    channelBinding,
  });
}

/**
 * The relay that carries the link, asked why once it is lost (a cap says
 * which): the one `paired` named, after a failover or with a shared store not
 * necessarily the first server of the list; the UDP relay over UDP, which a
 * side on TCP only cannot use.
 */
function relayedBy(linked: Linked, found: FoundPeer): RelayedBy | undefined {
  const pairing = { token: found.token, selfId: found.selfId };
  if (linked.won.kind === "relay-tls") return { addr: linked.won.relay, pairing };
  if (linked.facts.path === "relay" && found.transport.self === "udp" && found.relay) {
    return { addr: found.relay, pairing };
  }
  return undefined;
}

function peerRole(role: "sender" | "receiver"): "sender" | "receiver" {
  return role === "sender" ? "receiver" : "sender";
}
