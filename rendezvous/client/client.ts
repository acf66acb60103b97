/**
 * The rendezvous client: observes its NAT mapping through the server's two
 * ports, registers over a shared UDP socket, retransmits with backoff, polls
 * while the peer is missing, and resolves with both peers' addresses, NAT
 * mappings and the shared punch token.
 */
import { failFast } from "./_failover.ts";
import { openRegistration, registerRounds } from "./_registration.ts";
import { checkServer } from "./_request.ts";
import {
  FINGERPRINT_SIZE,
  isEncodableAddr,
  MAX_CANDIDATES,
  type NatMapping,
  parseNameplate,
  type RendezvousTransport,
  type Role,
} from "../wire/mod.ts";

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
  /**
   * We take only the relay (`--relay-only`): the peer is told, so it joins the relay at once.
   * Needs empty `candidates` (we never go direct).
   */
  relayOnly?: boolean;
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
    /** The peer takes only the relay (`--relay-only`): it never answers on a direct path. */
    relayOnly?: boolean;
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
  options.signal?.throwIfAborted();
  const registration = await openRegistration(failFast(socket), options);
  if (registration.mapping !== undefined) options.onNat?.(registration.mapping);
  return await registerRounds(registration);
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
