/**
 * Client-side plumbing shared by `register`, the NAT observation and
 * `relayHello`: waiting for the next genuine reply from one server address.
 */
import { equalBytes, normalizeIp, ProtocolError, waitAtMost } from "../../base/mod.ts";
import type { DatagramPort } from "./client.ts";
import { decodeMessage, isEncodableAddr, type RendezvousMessage } from "../wire/mod.ts";

/** Unanswered requests are resent after this, doubling per unanswered request. */
export const RETRANSMIT_MS = 300;
export const MAX_RETRANSMIT_MS = 2000;

/** The wait before resending after `unanswered` unanswered requests. */
export function backoff(unanswered: number): number {
  return Math.min(RETRANSMIT_MS * 2 ** Math.min(unanswered, 8), MAX_RETRANSMIT_MS);
}

/**
 * The cookies servers gave our socket, by server address (host and port):
 * behind an endpoint-dependent NAT each server port sees the socket at
 * another address and mints another cookie, and each instance failed over to
 * mints its own; otherwise the first one serves every port of its server.
 */
export class Cookies {
  readonly #byServer = new Map<string, Uint8Array>();
  #first?: Uint8Array;

  /** The cookie to send to `server`: its own, else the first one learned, else none. */
  get(server: Deno.NetAddr): Uint8Array | undefined {
    return this.#byServer.get(serverKey(server)) ?? this.#first;
  }

  /** Keeps `cookie` from `server`; false when we already sent that very cookie there. */
  learn(server: Deno.NetAddr, cookie: Uint8Array): boolean {
    const key = serverKey(server);
    const known = this.#byServer.get(key);
    if (known !== undefined && equalBytes(known, cookie)) return false;
    this.#byServer.set(key, cookie);
    this.#first ??= cookie;
    return true;
  }
}

function serverKey(server: Deno.NetAddr): string {
  return `${server.hostname}:${server.port}`;
}

export interface NextReplyOptions {
  server: Deno.NetAddr;
  clientId: Uint8Array;
  /** A `performance.now()` time: give up then. */
  deadline: number;
  /**
   * The server answered with a new cookie for us: resend the request with it
   * now (a retransmission timer would only add a wait to every first contact).
   */
  onCookie: (cookie: Uint8Array) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * The next reply from `server` that echoes `clientId`, or undefined once the
 * deadline passes. Junk, requests, datagrams from elsewhere and replies for
 * other clients are skipped; `cookie` answers go to `onCookie`.
 * Rejects with `signal.reason` on abort.
 */
export async function nextReply(
  port: DatagramPort,
  options: NextReplyOptions,
): Promise<RendezvousMessage | undefined> {
  const { server, clientId, deadline, signal } = options;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    const datagram = await waitAtMost(left, (wake) => port.receive(wake), signal);
    // A timer can fire up to a millisecond early: the check above says whether it is time.
    if (datagram === undefined) continue;
    if (!fromServer(datagram.from, server)) continue;
    let message;
    try {
      message = decodeMessage(datagram.data, { from: datagram.from });
    } catch (error) {
      if (error instanceof ProtocolError) continue; // junk: keep waiting for the real answer
      throw error;
    }
    if (!isReply(message)) continue;
    if (!equalBytes(message.clientId, clientId)) continue; // a stale or forged reply
    if (message.type === "cookie") {
      await options.onCookie(message.cookie);
      continue;
    }
    return message;
  }
}

/** An `onCookie` that keeps the cookie in `cookies` and resends `encode()` to `to` when it is new. */
export function resendWithCookie(
  port: DatagramPort,
  to: Deno.NetAddr,
  cookies: Cookies,
  encode: () => Uint8Array,
): (cookie: Uint8Array) => Promise<void> {
  return async (cookie) => {
    if (cookies.learn(to, cookie)) await port.send(encode(), to);
  };
}

function isReply(message: RendezvousMessage): boolean {
  return !["register", "leave", "observe", "relay-hello"].includes(message.type);
}

function fromServer(from: Deno.NetAddr, server: Deno.NetAddr): boolean {
  if (from.port !== server.port) return false;
  // A server given by name cannot be matched by address: rely on port and client id.
  // A dual-stack socket reports an IPv4 server as ::ffff:a.b.c.d.
  return !isEncodableAddr(server) ||
    normalizeIp(from.hostname) === normalizeIp(server.hostname);
}

export function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** Checks a `{ hostname, port }` option. @throws {TypeError} */
export function checkServer(server: Deno.NetAddr, what: string): void {
  if (
    typeof server?.hostname !== "string" || server.hostname === "" ||
    !Number.isInteger(server.port) || server.port < 1 || server.port > 65535
  ) {
    throw new TypeError(
      `Invalid ${what} address ${JSON.stringify(server)}: expected { hostname, port }`,
    );
  }
}
