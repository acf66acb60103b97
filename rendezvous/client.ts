/**
 * The rendezvous client: observes its NAT mapping through the server's two
 * ports, registers over a shared UDP socket, retransmits with backoff, polls
 * while the peer is missing, and resolves with both peers' addresses, NAT
 * mappings and the shared punch token.
 */
import { RendezvousError, TimeoutError } from "../errors.ts";
import { describeError } from "./_describe_error.ts";
import { observeNat } from "./_observe.ts";
import { backoff, checkServer, nextReply, seconds } from "./_request.ts";
import {
  CLIENT_ID_SIZE,
  encodeMessage,
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
  role: Role;
  /** Required for `receive`; for `send`, absent means "allocate one for me". */
  nameplate?: string;
  /** Our private candidates (IPv4, at most 8). */
  candidates: Deno.NetAddr[];
  /** Our certificate fingerprint (32 bytes), passed to the peer. */
  fingerprint?: Uint8Array;
  /** Called once when the server confirms our room. */
  onNameplate?: (nameplate: string) => void;
  /** Called once with our NAT mapping, after observing it and before registering (never over TCP). */
  onNat?: (mapping: NatMapping) => void;
  /** Give up when the server has not answered for this long (default 10 s). */
  serverTimeoutMs?: number;
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
   * The server's relay: the server's address as we addressed it, with the
   * relay port. Absent when the server does not relay.
   */
  relay?: Deno.NetAddr;
}

const DEFAULT_SERVER_TIMEOUT_MS = 10_000;

/**
 * Observes our NAT mapping (an `observe` to the server's main port, then one
 * to its alt port), registers with the rendezvous server, and waits until
 * the peer is paired. While the server answers `waiting`, polls every 300 ms;
 * a `paired` the server pushes between polls ends the wait at once.
 * @throws {TypeError|RangeError} for bad options.
 * @throws {RendezvousError} when the server refuses (unknown nameplate, in use, full, ...).
 * @throws {TimeoutError} when the server does not answer for `serverTimeoutMs`.
 * Rejects with `signal.reason` when `signal` aborts.
 */
export async function register(port: DatagramPort, options: RegisterOptions): Promise<Pairing> {
  validate(options);
  const { server, role, signal } = options;
  signal?.throwIfAborted();
  const serverText = `${server.hostname}:${server.port}`;
  const serverTimeoutMs = options.serverTimeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
  const clientId = crypto.getRandomValues(new Uint8Array(CLIENT_ID_SIZE));
  const overTcp = port.transport === "tcp";
  const nat = await observeNat(port, {
    server,
    clientId,
    candidates: options.candidates,
    serverTimeoutMs,
    alt: !overTcp,
    signal,
  });
  const mapping: NatMapping | undefined = overTcp ? undefined : nat.mapping;
  if (mapping !== undefined) options.onNat?.(mapping);
  let nameplate = options.nameplate;
  let confirmed = false;
  let unanswered = 0;
  let lastAnswer = performance.now();
  try {
    for (;;) {
      const request = encodeMessage({
        type: "register",
        role,
        clientId,
        nameplate,
        candidates: options.candidates,
        fingerprint: options.fingerprint,
        poll: confirmed,
        nat: mapping,
      }, { padTo: MAX_REPLY_SIZE });
      await port.send(request, server);
      const deadline = Math.min(
        performance.now() + backoff(unanswered),
        lastAnswer + serverTimeoutMs,
      );
      let answered = false;
      for (;;) {
        const message = await nextReply(port, server, clientId, deadline, signal);
        if (message === undefined) break;
        if (message.type === "error") {
          throw new RendezvousError(
            describeError(message.code, message.nameplate ?? nameplate, serverText),
          );
        }
        if (message.type !== "waiting" && message.type !== "paired") continue;
        if (nameplate !== undefined && message.nameplate !== nameplate) continue;
        answered = true;
        lastAnswer = performance.now();
        if (!confirmed) {
          confirmed = true;
          nameplate = message.nameplate;
          options.onNameplate?.(nameplate);
        }
        if (message.type === "paired") {
          const relay: Deno.NetAddr | undefined = nat.relayPort === undefined
            ? undefined
            : { transport: "udp", hostname: server.hostname, port: nat.relayPort };
          return toPairing(message, mapping, relay, overTcp ? "tcp" : "udp");
        }
      }
      unanswered = answered ? 0 : unanswered + 1;
      if (performance.now() - lastAnswer >= serverTimeoutMs) {
        throw new TimeoutError(
          `No answer from rendezvous server ${serverText} after ${seconds(serverTimeoutMs)} s`,
        );
      }
    }
  } catch (error) {
    if (confirmed && role === "send" && nameplate !== undefined) {
      // Best effort: free our waiting room now instead of after the idle timeout.
      const leave = encodeMessage({ type: "leave", clientId, nameplate });
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
        `Invalid candidate ${candidate?.hostname}:${candidate?.port}: expected an IPv4 address and port 1-65535`,
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
