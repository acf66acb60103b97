/**
 * The rendezvous client: observes its NAT mapping through the server's two
 * ports, registers over a shared UDP socket, retransmits with backoff, polls
 * while the peer is missing, and resolves with both peers' addresses, NAT
 * mappings and the shared punch token.
 */
import { RendezvousError, TimeoutError } from "../errors.ts";
import { newClientId } from "./client_ids.ts";
import { describeError } from "./_describe_error.ts";
import { failFast, Failover } from "./_failover.ts";
import { formatAddr } from "../peer/addresses.ts";
import { observeNat } from "./_observe.ts";
import { backoff, checkServer, Cookies, nextReply, seconds } from "./_request.ts";
import {
  encodeMessage,
  ErrorCode,
  FINGERPRINT_SIZE,
  isEncodableAddr,
  MAX_CANDIDATES,
  MAX_REPLY_SIZE,
  type NatMapping,
  type PairedMessage,
  parseNameplate,
  type RendezvousTransport,
  type Role,
} from "./protocol.ts";

/** What the client needs from the (shared, demultiplexed) UDP socket, or from a TCP connection. */
export interface DatagramPort {
  /**
   * How this port reaches the server (default `udp`). Over `tcp`
   * (`connectRendezvousTcp`) the NAT mapping is not observed: the alt port
   * is UDP only, and a peer on TCP cannot punch anyway.
   */
  readonly transport?: RendezvousTransport;
  send(data: Uint8Array, to: Deno.NetAddr): Promise<void>;
  /** Next datagram that starts with RENDEZVOUS_MAGIC; rejects with signal.reason on abort. */
  receive(signal: AbortSignal): Promise<{ data: Uint8Array; from: Deno.NetAddr }>;
}

export interface RegisterOptions {
  server: Deno.NetAddr;
  /**
   * More instances sharing `server`'s rooms (`serve --store`): when the
   * current one stops answering for `failoverMs` (or cannot reach its store),
   * the next is tried with the same client id, so a waiting sender keeps its
   * room. Over TCP (one connection, one server) they are not used.
   */
  fallbacks?: Deno.NetAddr[];
  /** With fallbacks: silence from one server that moves on to the next (default 3 s). */
  failoverMs?: number;
  role: Role;
  /** Required for `receive`; for `send`, absent means "allocate one for me". */
  nameplate?: string;
  /** Our private candidates (IPv4 or IPv6, never IPv4-mapped; at most 8). */
  candidates: Deno.NetAddr[];
  /** Our certificate fingerprint (32 bytes), passed to the peer. */
  fingerprint?: Uint8Array;
  /** Called once when the server confirms our room. */
  onNameplate?: (nameplate: string) => void;
  /** Called once with our NAT mapping, after observing it and before registering (never over TCP). */
  onNat?: (mapping: NatMapping) => void;
  /**
   * Receiver: while no sender holds the nameplate, keep asking for this long
   * (the receiver started first) before failing with "No sender is waiting"; default 0.
   */
  waitForSenderMs?: number;
  /** Called once when the receiver starts waiting for the sender. */
  onWaitingForSender?: () => void;
  /** Give up when the server has not answered for this long (default 10 s). */
  serverTimeoutMs?: number;
  /** Our client id (default: a random one). */
  clientId?: Uint8Array;
  /** Sender: SHA-256 of the client id we will reopen this nameplate with once it paired. */
  successor?: Uint8Array;
  /** Bounds the whole wait, including for the peer; rejects with its reason. */
  signal?: AbortSignal;
}

export interface Pairing {
  nameplate: string;
  selfId: Uint8Array;
  token: Uint8Array;
  /** Our public address as the server saw it. */
  observed: Deno.NetAddr;
  peer: {
    id: Uint8Array;
    observed: Deno.NetAddr;
    candidates: Deno.NetAddr[];
    fingerprint?: Uint8Array;
  };
  /**
   * NAT mappings: ours as observed, the peer's as it reported it
   * (`endpoint-independent` when a peer on UDP reported none). A side that
   * registered over TCP counts as `endpoint-dependent`: its UDP mapping is
   * unknown and punching to or from it is not expected to work.
   */
  nat: { self: NatMapping; peer: NatMapping };
  /**
   * How each side reached the server. A `tcp` side cannot punch UDP: the pair
   * needs a TCP path (LAN TCP, or the TCP relay).
   */
  transport: { self: RendezvousTransport; peer: RendezvousTransport };
  /**
   * The relay: the one `paired` names (a shared store's owning instance),
   * else the server's address as we addressed it, with the relay port.
   * Absent when the server does not relay.
   */
  relay?: Deno.NetAddr;
  /**
   * The server's cookie for our socket (absent over TCP): `relayHello` starts
   * with it, which spares the relay port a cookie round trip unless our NAT
   * shows the relay port another address.
   */
  cookie?: Uint8Array;
}

const DEFAULT_SERVER_TIMEOUT_MS = 10_000;
/**
 * A receiver that came first asks again this often while no sender is there (the server pushes
 * `paired` only to a waiting sender): for its first `FAST_SENDER_POLLS_MS`, so that a sender
 * started just after it (a script, the benchmarks) pairs within tens of ms, not 300; then at the
 * retransmit pace. 20 requests a second stay within the server's per-source budget (50).
 */
const SENDER_POLL_MS = 50;
const FAST_SENDER_POLLS_MS = 10_000;
const DEFAULT_FAILOVER_MS = 3_000;

/**
 * Observes our NAT mapping (an `observe` to the server's main port, then one
 * to its alt port), registers with the rendezvous server, and waits until
 * the peer is paired. While the server answers `waiting`, polls every 300 ms;
 * a `paired` the server pushes between polls ends the wait at once.
 * A sender whose room the server no longer knows (it restarted) registers the
 * same nameplate again; a receiver given `waitForSenderMs` keeps asking while
 * no sender is there yet.
 * @throws {TypeError|RangeError} for bad options.
 * @throws {RendezvousError} when the server refuses (unknown nameplate, in use, full, ...).
 * @throws {TimeoutError} when the server does not answer for `serverTimeoutMs`.
 * Rejects with `signal.reason` when `signal` aborts.
 */
export async function register(
  socket: DatagramPort,
  options: RegisterOptions,
): Promise<Pairing> {
  validate(options);
  const port = failFast(socket);
  const { role, signal } = options;
  signal?.throwIfAborted();
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
  // Cookies are per server address: an instance failed over to mints its own.
  const cookies = new Cookies();
  let nat;
  for (;;) {
    try {
      nat = await observeNat(port, {
        server: servers.current,
        clientId,
        candidates: options.candidates,
        serverTimeoutMs: silenceMs,
        alt: !overTcp,
        cookies,
        signal,
      });
      break;
    } catch (error) {
      if (!(error instanceof TimeoutError) || !servers.next()) throw servers.timeout(error);
    }
  }
  servers.answered();
  let server = servers.current;
  let serverText = formatAddr(server);
  const mapping: NatMapping | undefined = overTcp ? undefined : nat.mapping;
  if (mapping !== undefined) options.onNat?.(mapping);
  let nameplate = options.nameplate;
  let confirmed = false;
  // Whether the server holds our room: then we poll, else we (re)create it.
  let poll = false;
  let waitingSince: number | undefined;
  let unanswered = 0;
  let lastAnswer = performance.now();
  const encode = () =>
    encodeMessage({
      type: "register",
      role,
      clientId,
      nameplate,
      candidates: options.candidates,
      fingerprint: options.fingerprint,
      poll,
      nat: mapping,
      successor: options.successor,
      cookie: cookies.get(server),
    }, { padTo: MAX_REPLY_SIZE });
  // Resends to whichever server is current: failover moves on to the next one.
  const onCookie = async (cookie: Uint8Array) => {
    if (cookies.learn(server, cookie)) await port.send(encode(), server);
  };
  try {
    for (;;) {
      try {
        await port.send(encode(), server);
      } catch (error) {
        // This host cannot reach the server (failFast): try the next one now.
        if (!(error instanceof TimeoutError) || !servers.next()) throw servers.timeout(error);
        ({ server, serverText } = servers.switched());
        lastAnswer = performance.now();
        unanswered = 0;
        continue;
      }
      let deadline = Math.min(
        performance.now() + backoff(unanswered),
        lastAnswer + silenceMs,
      );
      let answered = false;
      for (;;) {
        const message = await nextReply(port, { server, clientId, deadline, onCookie, signal });
        if (message === undefined) break;
        if (
          message.type === "error" && message.code === ErrorCode.expired && role === "send" &&
          poll
        ) {
          // The server lost our room (it restarted): we still hold the claim.
          poll = false;
          answered = true;
          lastAnswer = performance.now();
          break;
        }
        if (
          message.type === "error" && message.code === ErrorCode.noSender &&
          (options.waitForSenderMs ?? 0) > 0 &&
          performance.now() - (waitingSince ?? performance.now()) < options.waitForSenderMs!
        ) {
          if (waitingSince === undefined) {
            waitingSince = performance.now();
            options.onWaitingForSender?.();
          }
          answered = true;
          lastAnswer = performance.now();
          if (lastAnswer - waitingSince < FAST_SENDER_POLLS_MS) {
            deadline = Math.min(deadline, lastAnswer + SENDER_POLL_MS);
          }
          continue;
        }
        if (message.type === "error") {
          if (message.code === ErrorCode.storeUnavailable && servers.next()) {
            ({ server, serverText } = servers.switched());
            lastAnswer = performance.now();
            break;
          }
          throw new RendezvousError(
            describeError({ ...message, nameplate: message.nameplate ?? nameplate }, serverText),
          );
        }
        if (message.type !== "waiting" && message.type !== "paired") continue;
        if (nameplate !== undefined && message.nameplate !== nameplate) continue;
        answered = true;
        lastAnswer = performance.now();
        poll = true;
        if (!confirmed) {
          confirmed = true;
          nameplate = message.nameplate;
          options.onNameplate?.(nameplate);
        }
        if (message.type === "paired") {
          // With a shared store, the room's relay may be another instance's: the server names it.
          const relay: Deno.NetAddr | undefined = message.relay ??
            (nat.relayPort === undefined
              ? undefined
              : { transport: "udp", hostname: server.hostname, port: nat.relayPort });
          const pairing = toPairing(message, mapping, relay, overTcp ? "tcp" : "udp");
          const cookie = cookies.get(server);
          if (cookie !== undefined) pairing.cookie = cookie;
          // We have our answer: once the peer has its own, the nameplate is free for the next
          // transfer at once (PROTOCOL.md, "Leaving"). Best effort: a lost one costs the linger.
          const leave = { type: "leave" as const, clientId, nameplate: message.nameplate, cookie };
          await port.send(encodeMessage(leave), server).catch(() => {});
          return pairing;
        }
      }
      unanswered = answered ? 0 : unanswered + 1;
      if (answered) servers.answered();
      if (performance.now() - lastAnswer >= silenceMs) {
        const silence = new TimeoutError(
          `No answer from rendezvous server ${serverText} after ${seconds(silenceMs)} s`,
        );
        if (!servers.next()) throw servers.timeout(silence);
        ({ server, serverText } = servers.switched());
        lastAnswer = performance.now();
        unanswered = 0;
      }
    }
  } catch (error) {
    if (confirmed && role === "send" && nameplate !== undefined) {
      // Best effort: free our waiting room now instead of after the idle timeout.
      const leave = encodeMessage({
        type: "leave",
        clientId,
        nameplate,
        cookie: cookies.get(server),
      });
      await port.send(leave, server).catch(() => {});
    }
    throw error;
  }
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

function validate(options: RegisterOptions): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError("register() needs an options object");
  }
  if (options.role !== "send" && options.role !== "receive") {
    throw new TypeError(
      `Invalid role ${JSON.stringify(options.role)}: expected "send" or "receive"`,
    );
  }
  checkServer(options.server, "server");
  if (options.fallbacks !== undefined) {
    if (!Array.isArray(options.fallbacks)) {
      throw new TypeError("Invalid fallbacks: expected an array");
    }
    for (const fallback of options.fallbacks) checkServer(fallback, "fallback server");
  }
  const failover = options.failoverMs;
  if (failover !== undefined && (!Number.isFinite(failover) || failover <= 0)) {
    throw new RangeError(`Invalid failoverMs ${failover}: expected a positive number`);
  }
  if (options.nameplate !== undefined) parseNameplate(options.nameplate);
  else if (options.role === "receive") throw new TypeError("A receiver needs a nameplate to join");
  if (!Array.isArray(options.candidates) || options.candidates.length > MAX_CANDIDATES) {
    throw new RangeError(
      `Invalid candidates: expected an array of at most ${MAX_CANDIDATES} addresses`,
    );
  }
  for (const candidate of options.candidates) {
    if (!isEncodableAddr(candidate)) {
      throw new TypeError(
        `Invalid candidate ${candidate?.hostname}:${candidate?.port}: expected an IPv4 or IPv6 address (not IPv4-mapped) and port 1-65535`,
      );
    }
  }
  const fingerprint = options.fingerprint;
  if (
    fingerprint !== undefined &&
    (!(fingerprint instanceof Uint8Array) || fingerprint.length !== FINGERPRINT_SIZE)
  ) {
    throw new RangeError(`Invalid fingerprint: expected ${FINGERPRINT_SIZE} bytes`);
  }
  const timeout = options.serverTimeoutMs;
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) {
    throw new RangeError(`Invalid serverTimeoutMs ${timeout}: expected a positive number`);
  }
}
