/**
 * NAT mapping detection: ask the server's main port and its alt port which
 * source address they see for our (shared) socket, and compare.
 */
import { TimeoutError } from "../../base/mod.ts";
import type { DatagramPort } from "./client.ts";
import { backoff, Cookies, nextReply, resendWithCookie, seconds } from "./_request.ts";
import {
  encodeMessage,
  MAX_REPLY_SIZE,
  type NatMapping,
  type ObservationMessage,
} from "../wire/mod.ts";

/** How long the alt port may stay silent before we classify from the main port alone. */
export const ALT_TIMEOUT_MS = 2000;

export interface NatObservation {
  /** A guess from the main port alone when the alt port did not answer. */
  mapping: NatMapping;
  /** The server's relay port, absent when it does not relay. */
  relayPort?: number;
  /** Our address as the main port saw it. */
  observed: Deno.NetAddr;
  /** Our address as the alt port saw it; absent when it was not asked or did not answer. */
  altObserved?: Deno.NetAddr;
}

/**
 * Classifies a mapping from what the server's two ports saw. `none` when the
 * main port saw one of our own `candidates` and the alt port saw the same
 * address; `endpoint-dependent` when the two ports saw different addresses
 * (IP or port); otherwise `endpoint-independent`. Without an alt
 * observation, the alt port is assumed to agree.
 */
export function classifyMapping(
  candidates: Deno.NetAddr[],
  main: Deno.NetAddr,
  alt: Deno.NetAddr | undefined,
): NatMapping {
  if (alt !== undefined && (alt.hostname !== main.hostname || alt.port !== main.port)) {
    return "endpoint-dependent";
  }
  const own = candidates.some((c) => c.hostname === main.hostname && c.port === main.port);
  return own ? "none" : "endpoint-independent";
}

/**
 * Observes via the main port (which also tells the alt and relay ports), then
 * via the alt port, and classifies.
 * @throws {TimeoutError} when the main port does not answer for `serverTimeoutMs`.
 */
export async function observeNat(
  port: DatagramPort,
  options: {
    server: Deno.NetAddr;
    clientId: Uint8Array;
    candidates: Deno.NetAddr[];
    serverTimeoutMs: number;
    /** Ask the alt port too (false over TCP: the alt port is UDP only). */
    alt: boolean;
    /** Learns the server's cookies (the first observe is answered with one); default: a fresh store. */
    cookies?: Cookies;
    signal?: AbortSignal;
  },
): Promise<NatObservation> {
  const { server } = options;
  const asking = { ...options, cookies: options.cookies ?? new Cookies() };
  const main = await observeVia(port, server, options.serverTimeoutMs, asking);
  if (main === undefined) {
    throw new TimeoutError(
      `No answer from rendezvous server ${server.hostname}:${server.port} after ${
        seconds(options.serverTimeoutMs)
      } s`,
    );
  }
  const altServer: Deno.NetAddr = {
    transport: "udp",
    hostname: server.hostname,
    port: main.altPort,
  };
  const altTimeout = Math.min(ALT_TIMEOUT_MS, options.serverTimeoutMs);
  const alt = options.alt ? await observeVia(port, altServer, altTimeout, asking) : undefined;
  const result: NatObservation = {
    mapping: classifyMapping(options.candidates, main.observed, alt?.observed),
    observed: main.observed,
  };
  if (alt !== undefined) result.altObserved = alt.observed;
  if (main.relayPort !== undefined) result.relayPort = main.relayPort;
  return result;
}

/**
 * Sends `observe` to `to` with backoff (and at once with each new cookie)
 * until an observation comes back, or undefined after `timeoutMs`.
 */
async function observeVia(
  port: DatagramPort,
  to: Deno.NetAddr,
  timeoutMs: number,
  options: { clientId: Uint8Array; cookies: Cookies; signal?: AbortSignal },
): Promise<ObservationMessage | undefined> {
  const { clientId, cookies, signal } = options;
  const encode = () =>
    encodeMessage({ type: "observe", clientId, cookie: cookies.get(to) }, {
      padTo: MAX_REPLY_SIZE,
    });
  const onCookie = resendWithCookie(port, to, cookies, encode);
  const started = performance.now();
  for (let unanswered = 0;; unanswered++) {
    await port.send(encode(), to);
    const deadline = Math.min(performance.now() + backoff(unanswered), started + timeoutMs);
    for (;;) {
      const reply = await nextReply(port, { server: to, clientId, deadline, onCookie, signal });
      if (reply === undefined) break;
      if (reply.type === "observation") return reply;
    }
    if (performance.now() - started >= timeoutMs) return undefined;
  }
}
