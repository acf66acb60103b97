/**
 * `register`'s phases after its options are checked: {@link openRegistration}
 * picks the servers and observes our NAT (failing over while they are
 * silent); {@link registerRounds} sends `register` and reads the replies, one
 * round at a time, until the server pairs us. What a round changes lives in
 * one {@link Progress}; what every round needs, in one {@link Registration}.
 */
import { RendezvousError, TimeoutError } from "../../base/mod.ts";
import { newClientId } from "./client_ids.ts";
import type { DatagramPort, Pairing, RegisterOptions } from "./client.ts";
import { describeError, NameplateInUseError, NoSenderError, stillBusy } from "./_describe_error.ts";
import { Failover } from "./_failover.ts";
import { type NatObservation, observeNat } from "./_observe.ts";
import { backoff, Cookies, nextReply, seconds } from "./_request.ts";
import {
  encodeMessage,
  ErrorCode,
  type ErrorMessage,
  MAX_REPLY_SIZE,
  type NatMapping,
  type PairedMessage,
  type RendezvousMessage,
  type RendezvousTransport,
} from "../wire/mod.ts";

const DEFAULT_SERVER_TIMEOUT_MS = 10_000;
/**
 * A receiver that came first asks again this often while no sender is there: for its first
 * `FAST_SENDER_POLLS_MS`, so that a sender started just after it (a script, the benchmarks) pairs
 * within tens of ms, not 300, on a server that does not push `paired` to a waiting receiver (older
 * ones, or another instance than its sender's); then at the retransmit pace. 20 requests a second
 * stay within the server's per-source budget (50).
 */
const SENDER_POLL_MS = 50;
const FAST_SENDER_POLLS_MS = 10_000;
const DEFAULT_FAILOVER_MS = 3_000;

/** What every round needs: fixed once the NAT is observed. */
export interface Registration {
  port: DatagramPort;
  options: RegisterOptions;
  servers: Failover;
  /** Silence from one server after which we move on (or give up). */
  silenceMs: number;
  clientId: Uint8Array;
  /** Per server address: an instance failed over to mints its own. */
  cookies: Cookies;
  overTcp: boolean;
  nat: NatObservation;
  /** The server that answered `nat` (its relay port is `nat.relayPort`): the first that answered. */
  observedAt: Deno.NetAddr;
  /** Our mapping, unknown over TCP. */
  mapping: NatMapping | undefined;
}

/** What rounds change: the server we talk to, our room, and how long it has been silent. */
interface Progress {
  server: Deno.NetAddr;
  serverText: string;
  nameplate: string | undefined;
  /** The server confirmed our room (`onNameplate` ran). */
  confirmed: boolean;
  /** Whether the server holds our room: then we poll, else we (re)create it. */
  poll: boolean;
  /** When a receiver started waiting for its sender. */
  waitingSince: number | undefined;
  /** Rounds in a row without an answer (the backoff). */
  unanswered: number;
  lastAnswer: number;
  /** This round heard from the server. */
  answered: boolean;
  /** When this round stops reading replies and sends again (`performance.now()` time). */
  deadline: number;
}

/** After one reply: read the next, end the round, or the pairing. */
type Next = "read-on" | "end-round" | Pairing;

/** Phase 1: the servers to try, our client id, and our NAT as the first server that answers sees it. */
export async function openRegistration(
  port: DatagramPort,
  options: RegisterOptions,
): Promise<Registration> {
  const overTcp = port.transport === "tcp";
  const servers = new Failover(
    overTcp ? [options.server] : [options.server, ...(options.fallbacks ?? [])],
  );
  const serverTimeoutMs = options.serverTimeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
  // Alone, a server gets the whole timeout; with others to try, a shorter silence moves on.
  const silenceMs = servers.count > 1
    ? Math.min(options.failoverMs ?? DEFAULT_FAILOVER_MS, serverTimeoutMs)
    : serverTimeoutMs;
  const clientId = options.clientId ?? newClientId();
  const cookies = new Cookies();
  for (;;) {
    try {
      const nat = await observeNat(port, {
        server: servers.current,
        clientId,
        candidates: options.candidates,
        serverTimeoutMs: silenceMs,
        alt: !overTcp,
        cookies,
        signal: options.signal,
      });
      const observedAt = servers.current;
      servers.answered();
      const mapping = overTcp ? undefined : nat.mapping;
      return {
        port,
        options,
        servers,
        silenceMs,
        clientId,
        cookies,
        overTcp,
        nat,
        observedAt,
        mapping,
      };
    } catch (error) {
      if (!(error instanceof TimeoutError) || !servers.next()) throw servers.timeout(error);
    }
  }
}

/**
 * Phase 2: registers and polls, one round at a time, until paired. A failure
 * after the server confirmed a sender's room frees the room (best effort).
 */
export async function registerRounds(r: Registration): Promise<Pairing> {
  const server = r.servers.current;
  const p: Progress = {
    server,
    serverText: r.servers.switched().serverText,
    nameplate: r.options.nameplate,
    confirmed: false,
    poll: false,
    waitingSince: undefined,
    unanswered: 0,
    lastAnswer: performance.now(),
    answered: false,
    deadline: 0,
  };
  // Resends to whichever server is current: failover moves on to the next one.
  const onCookie = async (cookie: Uint8Array) => {
    if (r.cookies.learn(p.server, cookie)) await r.port.send(encodeRegister(r, p), p.server);
  };
  try {
    for (;;) {
      if (!(await sendRegister(r, p))) continue;
      const pairing = await readReplies(r, p, onCookie);
      if (pairing !== undefined) {
        // We have our answer: once the peer has its own, the nameplate is free for the next
        // transfer at once (../PROTOCOL.md, "Leaving"). Best effort: a lost one costs the linger.
        await leave(r, p.server, pairing.nameplate);
        if (p.server !== r.observedAt && !pairing.relay) await learnRelay(r, p.server, pairing);
        return pairing;
      }
      endRound(r, p);
    }
  } catch (error) {
    // Best effort: a sender frees its confirmed room now instead of after the idle timeout; a
    // receiver that waited stops the server from pairing a sender that comes now with nobody.
    const waited = r.options.role === "receive" && p.waitingSince !== undefined;
    if ((p.confirmed && r.options.role === "send" || waited) && p.nameplate !== undefined) {
      await leave(r, p.server, p.nameplate);
    }
    throw error;
  }
}

function encodeRegister(r: Registration, p: Progress): Uint8Array {
  return encodeMessage({
    type: "register",
    role: r.options.role,
    clientId: r.clientId,
    nameplate: p.nameplate,
    candidates: r.options.candidates,
    fingerprint: r.options.fingerprint,
    poll: p.poll,
    relayOnly: r.options.relayOnly,
    nat: r.mapping,
    successor: r.options.successor,
    waitsForSender: (r.options.waitForSenderMs ?? 0) > 0,
    cookie: r.cookies.get(p.server),
  }, { padTo: MAX_REPLY_SIZE });
}

/** Sends this round's `register`; false when this host cannot reach the server (moved on to the next). */
async function sendRegister(r: Registration, p: Progress): Promise<boolean> {
  try {
    await r.port.send(encodeRegister(r, p), p.server);
    return true;
  } catch (error) {
    if (!(error instanceof TimeoutError) || !r.servers.next()) throw r.servers.timeout(error);
    switchServer(r, p);
    p.unanswered = 0;
    return false;
  }
}

/** Reads replies until the round's deadline (backoff, or the server's silence): the pairing, or undefined. */
async function readReplies(
  r: Registration,
  p: Progress,
  onCookie: (cookie: Uint8Array) => Promise<void>,
): Promise<Pairing | undefined> {
  const wait = { server: p.server, clientId: r.clientId, onCookie, signal: r.options.signal };
  p.deadline = Math.min(performance.now() + backoff(p.unanswered), p.lastAnswer + r.silenceMs);
  p.answered = false;
  for (;;) {
    const message = await nextReply(r.port, { ...wait, deadline: p.deadline });
    if (message === undefined) return undefined;
    const next = message.type === "error" ? onError(r, p, message) : onAnswer(r, p, message);
    if (next === "end-round") return undefined;
    if (next !== "read-on") return next;
  }
}

function heard(p: Progress): void {
  p.answered = true;
  p.lastAnswer = performance.now();
}

function onError(r: Registration, p: Progress, message: ErrorMessage): Next {
  const { role, waitForSenderMs = 0 } = r.options;
  if (message.code === ErrorCode.expired && role === "send" && p.poll) {
    // The server lost our room (it restarted): we still hold the claim.
    p.poll = false;
    heard(p);
    return "end-round";
  }
  // A sender busy with another receiver (several receivers) is one to wait for too.
  const senderToCome = message.code === ErrorCode.noSender || message.code === ErrorCode.roomFull;
  if (
    senderToCome && role === "receive" && waitForSenderMs > 0 &&
    performance.now() - (p.waitingSince ?? performance.now()) < waitForSenderMs
  ) {
    if (p.waitingSince === undefined) {
      p.waitingSince = performance.now();
      r.options.onWaitingForSender?.();
    }
    heard(p);
    if (p.lastAnswer - p.waitingSince < FAST_SENDER_POLLS_MS) {
      p.deadline = Math.min(p.deadline, p.lastAnswer + SENDER_POLL_MS);
    }
    return "read-on";
  }
  if (message.code === ErrorCode.roomFull && role === "receive" && p.waitingSince !== undefined) {
    throw new RendezvousError(
      stillBusy(message.nameplate ?? p.nameplate ?? "?", Math.round(waitForSenderMs / 1000)),
    );
  }
  if (message.code === ErrorCode.storeUnavailable && r.servers.next()) {
    switchServer(r, p);
    return "end-round";
  }
  const text = describeError(
    { ...message, nameplate: message.nameplate ?? p.nameplate },
    p.serverText,
  );
  throw message.code === ErrorCode.noSender
    ? new NoSenderError(text)
    : message.code === ErrorCode.nameplateInUse
    ? new NameplateInUseError(text)
    : new RendezvousError(text);
}

function onAnswer(r: Registration, p: Progress, message: RendezvousMessage): Next {
  if (message.type !== "waiting" && message.type !== "paired") return "read-on";
  if (p.nameplate !== undefined && message.nameplate !== p.nameplate) return "read-on";
  heard(p);
  p.poll = true;
  if (!p.confirmed) {
    p.confirmed = true;
    p.nameplate = message.nameplate;
    r.options.onNameplate?.(p.nameplate);
  }
  return message.type === "paired" ? pairingOf(r, p.server, message) : "read-on";
}

/** After a round without the pairing: the backoff, and failover once the server stayed silent too long. */
function endRound(r: Registration, p: Progress): void {
  p.unanswered = p.answered ? 0 : p.unanswered + 1;
  if (p.answered) r.servers.answered();
  if (performance.now() - p.lastAnswer < r.silenceMs) return;
  const silence = new TimeoutError(
    `No answer from rendezvous server ${p.serverText} after ${seconds(r.silenceMs)} s`,
  );
  if (!r.servers.next()) throw r.servers.timeout(silence);
  switchServer(r, p);
  p.unanswered = 0;
}

function switchServer(r: Registration, p: Progress): void {
  ({ server: p.server, serverText: p.serverText } = r.servers.switched());
  p.lastAnswer = performance.now();
}

/**
 * After a failover, the server that paired us is not the one whose relay
 * port we observed (its relay could be a dead instance's): one `observe`
 * asks it for its own. No answer: the pairing offers no relay.
 */
async function learnRelay(r: Registration, server: Deno.NetAddr, pairing: Pairing): Promise<void> {
  try {
    const { relayPort } = await observeNat(r.port, {
      server,
      clientId: r.clientId,
      candidates: r.options.candidates,
      serverTimeoutMs: r.silenceMs,
      alt: false,
      cookies: r.cookies,
      signal: r.options.signal,
    });
    if (relayPort !== undefined) {
      pairing.relay = { transport: "udp", hostname: server.hostname, port: relayPort };
    }
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
  }
}

/** Tells `server` we are done with `nameplate` (best effort: a lost one costs a timeout). */
async function leave(r: Registration, server: Deno.NetAddr, nameplate: string): Promise<void> {
  const message = encodeMessage({
    type: "leave",
    clientId: r.clientId,
    nameplate,
    cookie: r.cookies.get(server),
  });
  await r.port.send(message, server).catch(() => {});
}

function pairingOf(r: Registration, server: Deno.NetAddr, message: PairedMessage): Pairing {
  // With a shared store, the room's relay may be another instance's: the server names it.
  // Else it is the pairing server's, whose relay port we know if it is the one we observed.
  const relayPort = server === r.observedAt ? r.nat.relayPort : undefined;
  const relay: Deno.NetAddr | undefined = message.relay ??
    (relayPort === undefined
      ? undefined
      : { transport: "udp", hostname: server.hostname, port: relayPort });
  const pairing = toPairing(message, r.mapping, relay, r.overTcp ? "tcp" : "udp");
  const cookie = r.cookies.get(server);
  if (cookie !== undefined) pairing.cookie = cookie;
  return pairing;
}

function toPairing(
  message: PairedMessage,
  self: NatMapping | undefined,
  relay: Deno.NetAddr | undefined,
  transport: RendezvousTransport,
): Pairing {
  const peerTransport = message.peer.transport;
  const peer: Pairing["peer"] = {
    id: message.peer.id,
    observed: message.peer.observed,
    candidates: message.peer.candidates,
  };
  if (message.peer.fingerprint !== undefined) peer.fingerprint = message.peer.fingerprint;
  if (message.peer.relayOnly) peer.relayOnly = true;
  const pairing: Pairing = {
    nameplate: message.nameplate,
    selfId: message.clientId,
    token: message.token,
    observed: message.observed,
    peer,
    nat: {
      self: self ?? "endpoint-dependent",
      peer: message.peer.nat ??
        (peerTransport === "tcp" ? "endpoint-dependent" : "endpoint-independent"),
    },
    transport: { self: transport, peer: peerTransport },
  };
  if (relay !== undefined) pairing.relay = relay;
  return pairing;
}
