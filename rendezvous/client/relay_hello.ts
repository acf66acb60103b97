/**
 * The peer side of the relay handshake: tells the server's relay port which
 * socket to forward the other peer's datagrams to.
 */
import { RendezvousError, TimeoutError } from "../../base/mod.ts";
import type { DatagramPort } from "./client.ts";
import { describeError } from "./_describe_error.ts";
import { checkServer, Cookies, nextReply, resendWithCookie, seconds } from "./_request.ts";
import {
  CLIENT_ID_SIZE,
  COOKIE_SIZE,
  encodeMessage,
  MAX_REPLY_SIZE,
  TOKEN_SIZE,
} from "../wire/mod.ts";

export interface RelayHelloOptions {
  /** The relay's address: `Pairing.relay`. */
  relay: Deno.NetAddr;
  /** `Pairing.token`. */
  token: Uint8Array;
  /** `Pairing.selfId`. */
  selfId: Uint8Array;
  /** `Pairing.cookie`: the server's cookie for this socket (the relay asks for its own otherwise). */
  cookie?: Uint8Array;
  /** Give up when the relay has not answered at all for this long (default 10 s). */
  serverTimeoutMs?: number;
  /** Bounds the whole wait, including for the other peer's hello; rejects with its reason. */
  signal?: AbortSignal;
}

/** Resend interval: also how soon a lost hello or reply is repaired. */
export const RELAY_HELLO_INTERVAL_MS = 250;
const DEFAULT_SERVER_TIMEOUT_MS = 10_000;

/**
 * Sends `relay-hello` from `port` (the socket that will carry QUIC) every
 * 250 ms until the relay answers `relay-ready`: both peers are known and the
 * relay forwards every non-rendezvous datagram between their sockets.
 * `port` only needs to deliver rendezvous (`P2RV`) datagrams.
 * @throws {TypeError|RangeError} for bad options.
 * @throws {RendezvousError} when the relay is off, full, ended, or does not know the token.
 * @throws {TimeoutError} when the relay does not answer for `serverTimeoutMs`.
 * Rejects with `signal.reason` when `signal` aborts.
 */
export async function relayHello(port: DatagramPort, options: RelayHelloOptions): Promise<void> {
  validate(options);
  const { relay, token, selfId, signal } = options;
  signal?.throwIfAborted();
  const relayText = `${relay.hostname}:${relay.port}`;
  const timeoutMs = options.serverTimeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
  const cookies = new Cookies();
  if (options.cookie !== undefined) cookies.learn(relay, options.cookie);
  const encode = () =>
    encodeMessage({ type: "relay-hello", token, clientId: selfId, cookie: cookies.get(relay) }, {
      padTo: MAX_REPLY_SIZE,
    });
  const onCookie = resendWithCookie(port, relay, cookies, encode);
  let lastAnswer = performance.now();
  for (;;) {
    await port.send(encode(), relay);
    const deadline = Math.min(performance.now() + RELAY_HELLO_INTERVAL_MS, lastAnswer + timeoutMs);
    for (;;) {
      const reply = await nextReply(port, {
        server: relay,
        clientId: selfId,
        deadline,
        onCookie,
        signal,
      });
      if (reply === undefined) break;
      if (reply.type === "relay-ready") return;
      if (reply.type === "error") {
        throw new RendezvousError(describeError(reply, relayText));
      }
      if (reply.type === "relay-waiting") lastAnswer = performance.now();
    }
    if (performance.now() - lastAnswer >= timeoutMs) {
      throw new TimeoutError(`No answer from relay ${relayText} after ${seconds(timeoutMs)} s`);
    }
  }
}

function validate(options: RelayHelloOptions): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError("relayHello() needs an options object");
  }
  checkServer(options.relay, "relay");
  for (const [name, size] of [["token", TOKEN_SIZE], ["selfId", CLIENT_ID_SIZE]] as const) {
    const value = options[name];
    if (!(value instanceof Uint8Array) || value.length !== size) {
      throw new RangeError(`Invalid ${name}: expected ${size} bytes`);
    }
  }
  const cookie = options.cookie;
  if (cookie !== undefined && (!(cookie instanceof Uint8Array) || cookie.length !== COOKIE_SIZE)) {
    throw new RangeError(`Invalid cookie: expected ${COOKIE_SIZE} bytes`);
  }
  const timeout = options.serverTimeoutMs;
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) {
    throw new RangeError(`Invalid serverTimeoutMs ${timeout}: expected a positive number`);
  }
}
