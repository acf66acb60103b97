/**
 * The rendezvous client: registers with the server over a shared UDP socket,
 * retransmits with backoff, polls while the peer is missing, and resolves
 * with both peers' addresses and the shared punch token.
 */
import { ProtocolError, RendezvousError, TimeoutError } from "../errors.ts";
import {
  CLIENT_ID_SIZE,
  decodeMessage,
  encodeMessage,
  ErrorCode,
  FINGERPRINT_SIZE,
  isEncodableAddr,
  MAX_CANDIDATES,
  MAX_REPLY_SIZE,
  type PairedMessage,
  parseNameplate,
  type Role,
} from "./protocol.ts";

/** What the client needs from the (shared, demultiplexed) UDP socket. */
export interface DatagramPort {
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
}

/** Poll interval while the server answers; doubles per unanswered request. */
const POLL_INTERVAL_MS = 300;
const MAX_RETRANSMIT_MS = 2000;
const DEFAULT_SERVER_TIMEOUT_MS = 10_000;

/**
 * Registers with the rendezvous server and waits until the peer is paired.
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
      }, { padTo: MAX_REPLY_SIZE });
      await port.send(request, server);
      const interval = Math.min(POLL_INTERVAL_MS * 2 ** Math.min(unanswered, 8), MAX_RETRANSMIT_MS);
      const deadline = Math.min(performance.now() + interval, lastAnswer + serverTimeoutMs);
      let answered = false;
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) break;
        const datagram = await receiveWithin(port, left, signal);
        if (datagram === undefined) break;
        if (!fromServer(datagram.from, server)) continue;
        let message;
        try {
          message = decodeMessage(datagram.data, { from: datagram.from });
        } catch (error) {
          if (error instanceof ProtocolError) continue; // junk: keep waiting for the real answer
          throw error;
        }
        if (message.type === "register" || message.type === "leave") continue;
        if (!equalBytes(message.clientId, clientId)) continue; // a stale or forged reply
        if (message.type === "error") {
          throw new RendezvousError(
            describeError(message.code, message.nameplate ?? nameplate, serverText),
          );
        }
        if (nameplate !== undefined && message.nameplate !== nameplate) continue;
        answered = true;
        lastAnswer = performance.now();
        if (!confirmed) {
          confirmed = true;
          nameplate = message.nameplate;
          options.onNameplate?.(nameplate);
        }
        if (message.type === "paired") return toPairing(message);
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

/** Receives one datagram, or undefined after `ms`; rejects with `signal.reason` on abort. */
async function receiveWithin(
  port: DatagramPort,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<{ data: Uint8Array; from: Deno.NetAddr } | undefined> {
  const timer = new AbortController();
  const id = setTimeout(() => timer.abort(), ms);
  try {
    return await port.receive(signal ? AbortSignal.any([signal, timer.signal]) : timer.signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timer.signal.aborted) return undefined;
    throw error;
  } finally {
    clearTimeout(id);
  }
}

function fromServer(from: Deno.NetAddr, server: Deno.NetAddr): boolean {
  if (from.port !== server.port) return false;
  // A server given by name cannot be matched by address: rely on port and client id.
  return !isEncodableAddr(server) || from.hostname === server.hostname;
}

function toPairing(message: PairedMessage): Pairing {
  const peer: Pairing["peer"] = {
    id: message.peer.id,
    observed: message.peer.observed,
    candidates: message.peer.candidates,
  };
  if (message.peer.fingerprint !== undefined) peer.fingerprint = message.peer.fingerprint;
  return {
    nameplate: message.nameplate,
    selfId: message.clientId,
    token: message.token,
    observed: message.observed,
    peer,
  };
}

function describeError(code: number, nameplate: string | undefined, server: string): string {
  const plate = nameplate ?? "?";
  switch (code) {
    case ErrorCode.noSender:
      return `No sender is waiting on nameplate ${plate} (check the code, or ask the sender for a new one)`;
    case ErrorCode.nameplateInUse:
      return `Cannot register as sender: nameplate ${plate} is in use (choose another code)`;
    case ErrorCode.roomFull:
      return `Nameplate ${plate} already has a sender and a receiver (a code works once; ask the sender for a new one)`;
    case ErrorCode.serverFull:
      return `Rendezvous server ${server} is full (no free room or nameplate); try again later`;
    case ErrorCode.tooManyRooms:
      return `Rendezvous server ${server} refused: too many open rooms from your address; try again later`;
    case ErrorCode.expired:
      return `The room on nameplate ${plate} expired on rendezvous server ${server} (waited too long, or the server restarted); start again for a new code`;
    case ErrorCode.clientConflict:
      return `Rendezvous server ${server} refused: this client is already registered elsewhere (nameplate ${plate})`;
    default:
      return `Rendezvous server ${server} refused the registration (error code ${code})`;
  }
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
  const server = options.server;
  if (
    typeof server?.hostname !== "string" || server.hostname === "" ||
    !Number.isInteger(server.port) || server.port < 1 || server.port > 65535
  ) {
    throw new TypeError(
      `Invalid server address ${JSON.stringify(server)}: expected { hostname, port }`,
    );
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

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
