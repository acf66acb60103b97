import { type TransferCode } from "./code.ts";
import type { PeerLink } from "./link/mod.ts";
import type { RelayMode } from "./punch/mod.ts";
import type { TransportChoice } from "./_choose_transport.ts";
import type { EarlyShare } from "./_early_share.ts";
import { findPeer, type FindPeerOptions } from "./find/mod.ts";
import { LocalEnd, type Offered } from "./_local_end.ts";
import type { PathFacts, PeerSession, RelayedBy } from "./_session.ts";

/**
 * What follows finding the peer: the route, the link, the PAKE (pake/, tls/, quic/ and the
 * punching: about half of the peer layer's start-up), loaded once. Asked for when the register
 * is out and answered (a side then waits for its peer), or else once the peer is found, so that
 * a side's first request to the rendezvous server does not wait for it.
 */
let linkPhase: Promise<typeof import("./_link_phase.ts")> | undefined;
function loadLinkPhase(): Promise<typeof import("./_link_phase.ts")> {
  return linkPhase ??= import("./_link_phase.ts");
}

export type { FailOptions, PathFacts, PeerSession } from "./_session.ts";
export type { Offered } from "./_local_end.ts";
export type { PairedInfo } from "./find/mod.ts";

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
  const { authenticate, endAfter } = await loadLinkPhase();
  try {
    return await authenticate(opened.link, opened.facts, {
      role: options.role,
      words: options.code.words,
      nameplate: opened.nameplate,
      channelBinding: opened.channelBinding,
      started: opened.early.take(opened.nameplate, opened.channelBinding),
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
  /** This side's SPAKE2 share, started while this side waited (`EarlyShare`). */
  early: EarlyShare;
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
  // Disposed on failure; on success the caller takes it (`move`).
  await using unused = new AsyncDisposableStack();
  const choice = options.transport ?? "auto";
  await using end = await LocalEnd.open(options.role, {
    choice,
    offer: options.offer,
    relayOnly: options.relay === "only",
  });
  // The receiver's link always needs a TLS or QUIC client, whose first one blocks the thread for
  // tens of ms (tls/_warm_client.ts): made while it waits for its sender, or else once paired,
  // before punching (blocking during punching would reorder the acks it reads), while the sender
  // learns of the pairing and makes its SPAKE2 share. Best effort: a failure here only leaves
  // that cost where it was.
  let warming: Promise<void> | undefined;
  const warm = () => {
    if (options.role === "receiver") {
      warming ??= loadLinkPhase().then((phase) => phase.warmTlsClient()).catch(() => {});
    }
    return warming;
  };
  keepAlive.defer(() => warming);
  // This side's SPAKE2 share, made while it waits for its peer (or else once paired).
  let early: EarlyShare | undefined;
  const shareEarly = async () => {
    const phase = await loadLinkPhase();
    early ??= unused.use(new phase.EarlyShare(options.role, options.code.words));
    early.soon();
    return early;
  };
  const found = await findPeer(end.rendezvous, {
    ...options,
    nameplate: options.code.nameplate,
    port: end.port,
    fingerprint: end.side.certificate?.fingerprint,
    // The peer then joins the TCP relay at once; with QUIC only we take the UDP relay, which
    // the peer reaches by punching anyway, so it is not told.
    relayOnly: options.relay === "only" && choice !== "quic",
    onNameplate: (nameplate) => {
      // The sender's register is out and answered: the rest loads, and its share is made, while
      // the receiver comes.
      shareEarly().catch(() => {});
      options.onCode?.({ nameplate, words: options.code.words });
    },
    onWaitingForSender: () => {
      warm()?.then(shareEarly).catch(() => {});
      options.onWaitingForSender?.();
    },
    tcp: options.tcp ?? false,
    keepAlive,
  });
  const { linkOrTell, planRoute, relayedBy } = await loadLinkPhase();
  await warm();
  const share = await shareEarly();
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
    early: share,
  };
}

function peerRole(role: "sender" | "receiver"): "sender" | "receiver" {
  return role === "sender" ? "receiver" : "sender";
}
