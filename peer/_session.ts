/**
 * The authenticated session on a link: the PAKE on the first stream, and how
 * the session ends after an error (the peer's reason wins once it ended).
 */
import {
  CodeMismatchError,
  ConnectionLostError,
  formatAddr,
  P2pftError,
  peerStoppedMessage,
  withDeadline,
  withinDeadline,
} from "../base/mod.ts";
import { runPakeHandshake, type Spake2 } from "../pake/mod.ts";
import { askTcpRelay, type RelayVerdict, serverAnswers } from "../rendezvous/mod.ts";
import type { ByteStream } from "../transfer/mod.ts";
import type { CandidateSource, NatMapping, PunchOutcome } from "./punch/mod.ts";
import type { LinkEnd, OpenStreamOptions, PeerLink, Transport } from "./link/mod.ts";

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

/** The relay that carries a link: asked, once the link is lost, whether it stopped or ended the session. */
export interface RelayedBy {
  /** The relay's address: `transport` "tcp" for the TCP relay, "udp" for the UDP relay. */
  addr: Deno.NetAddr;
  /** The pairing, to ask the TCP relay (same host and port number) why the session ended. */
  pairing: { token: Uint8Array; selfId: Uint8Array };
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
  openStream(options?: OpenStreamOptions): Promise<ByteStream>;
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

export async function authenticate(
  link: PeerLink,
  facts: PathFacts,
  options: {
    role: "sender" | "receiver";
    words: string;
    nameplate: string;
    channelBinding: Uint8Array;
    /** This side's SPAKE2 start, computed while the link was set up (`EarlyShare`). */
    started?: Promise<Spake2>;
    /** What `fail` needs to explain a lost link. */
    lost: { relayedBy?: RelayedBy };
    signal?: AbortSignal;
  },
): Promise<PeerSession> {
  const peer = options.role === "sender" ? "receiver" : "sender";
  let pakeStream: ByteStream | undefined;
  const handshake = (async () => {
    pakeStream = options.role === "receiver" ? await link.openStream() : await link.acceptStream();
    const { sessionKey } = await runPakeHandshake(pakeStream, {
      role: options.role,
      code: options.words,
      nameplate: options.nameplate,
      channelBinding: options.channelBinding,
      started: options.started,
      signal: options.signal,
    });
    link.useLanes?.(sessionKey);
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
    openStream: (streamOptions) => link.openStream(streamOptions),
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
export async function endAfter(
  error: unknown,
  link: PeerLink,
  who: { peer: "sender" | "receiver"; relayedBy?: RelayedBy },
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
      const verdict: RelayVerdict = relayedBy ? await askRelay(relayedBy) : { kind: "up" };
      if (verdict.kind === "stopped") {
        return new ConnectionLostError(
          `The relay stopped: the rendezvous server ${
            formatAddr(relayedBy!.addr)
          } that relayed the link does not answer (${link.lostReason})`,
          { cause: error },
        );
      }
      if (verdict.kind === "ended") {
        return new ConnectionLostError(verdict.message, { cause: error });
      }
      return new ConnectionLostError(link.lostReason, { cause: error });
    }
    if (!end?.failed) return error;
    return new P2pftError(peerStoppedMessage(peer, end.message), { cause: error });
  }
  if (options?.peerWasTold) await withinDeadline(link.closed, PEER_END_DEADLINE_MS);
  await link.close({ failed: true, message });
  return error;
}

/**
 * Whether the relay stopped, ended the session (a cap says which), or is up.
 * The TCP relay answers for both relays; through the UDP relay, the UDP port
 * says whether the server runs (a server without TCP just cannot say why).
 */
async function askRelay(relay: RelayedBy): Promise<RelayVerdict> {
  const ask = { ...relay.pairing, timeoutMs: RELAY_CHECK_MS };
  const tcp: Deno.NetAddr = { ...relay.addr, transport: "tcp" };
  if (relay.addr.transport === "tcp") return await askTcpRelay(tcp, ask);
  if (!(await serverAnswers(relay.addr, RELAY_CHECK_MS, "relay"))) return { kind: "stopped" };
  const verdict = await askTcpRelay(tcp, ask);
  return verdict.kind === "ended" ? verdict : { kind: "up" };
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
