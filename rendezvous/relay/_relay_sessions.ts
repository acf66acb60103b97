/**
 * Relay sessions: which two addresses forward to each other, with per-session
 * limits. Pure (clock injected): the server owns the socket. `forward` is the
 * hot path: two Map lookups, a token bucket (when the operator set a rate), no allocation.
 *
 *   (none) --first hello--> waiting --other peer's hello--> ready
 *   waiting/ready --idle / byte limit--> ended --room freed (remove)--> (none)
 */
import { equalBytes, mergeLimits } from "../../base/mod.ts";
import { TokenBucket } from "./_token_bucket.ts";
import { encodeMessage, ErrorCode, type RelayHelloMessage } from "../wire/mod.ts";

/** A reply and where it goes. */
export type Outgoing = [data: Uint8Array, to: Deno.NetAddr];

export interface RelayLimits {
  /** Most live sessions at once. */
  maxSessions: number;
  /** Sustained bytes per second one session may relay (both directions together); Infinity: no cap. */
  bytesPerSecond: number;
  /** Bytes a quiet session may relay at once (the token bucket's size; default: 0.1 s of rate, at least 64 KiB). */
  burstBytes: number;
  /** Bytes one session may relay in all, then it ends; Infinity: no cap. */
  maxBytes: number;
  /** A session without a hello or a relayed datagram for this long ends. */
  idleTimeoutMs: number;
}

/**
 * No rate and no byte cap: a relay on a private server should never cut or
 * slow a transfer; an operator who shares one sets them (`serve --relay-rate`,
 * `--relay-max-bytes`; docs/SCALING.md). 64 sessions is the number of relayed
 * transfers at once, each refused beyond it before it starts, never cut.
 */
export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxSessions: 64,
  bytesPerSecond: Infinity,
  burstBytes: Infinity,
  maxBytes: Infinity,
  idleTimeoutMs: 30_000,
};

/**
 * Fills in relay limits (the UDP relay's or the TCP relay's): the given ones,
 * else the defaults; the burst defaults to a tenth of a second of the rate,
 * but never less than 64 KiB.
 * @throws {RangeError} for a limit that is not a positive number (Infinity: no cap, for the rate and the byte cap).
 */
export function mergeRelayLimits<L extends RelayLimits & Record<keyof L, number>>(
  defaults: L,
  given: Partial<L>,
): L {
  const limits = mergeLimits(defaults, given, {
    what: "relay ",
    allowZero: false,
    unbounded: ["bytesPerSecond", "maxBytes"],
  });
  if (given.burstBytes === undefined) {
    limits.burstBytes = Math.max(65_536, limits.bytesPerSecond / 10);
  }
  return limits;
}

/** The session's token bucket, or undefined when its rate is not capped. */
export function relayBucket(limits: RelayLimits, now: number): TokenBucket | undefined {
  return limits.bytesPerSecond === Infinity
    ? undefined
    : new TokenBucket(limits.bytesPerSecond, limits.burstBytes, now);
}

/** Why a session ended: its byte cap, or no traffic for the idle timeout (or its room was freed). */
export type EndReason = "bytes" | "idle";

/** The `error` a hello for an ended session gets: the byte cap says which cap it was. */
export function endedError(reason: EndReason | undefined, maxBytes: number): {
  code: number;
  limit?: number;
} {
  return reason === "bytes"
    ? { code: ErrorCode.relayCapped, limit: maxBytes }
    : { code: ErrorCode.relayEnded };
}

/** The answer to one valid-looking hello. */
export type HelloAnswer =
  | { kind: "waiting" }
  /** `notify`: the other peer, told `relay-ready` now since it was waiting. */
  | { kind: "ready"; notify?: { id: Uint8Array; addr: Deno.NetAddr } }
  | { kind: "error"; code: number; limit?: number };

interface Side {
  readonly session: Session;
  readonly index: 0 | 1;
}

interface Session {
  readonly key: string;
  readonly ids: readonly [Uint8Array, Uint8Array];
  readonly addrs: [Deno.NetAddr | undefined, Deno.NetAddr | undefined];
  readonly sides: readonly [Side, Side];
  /** Undefined when the rate is not capped. */
  readonly bucket: TokenBucket | undefined;
  bytes: number;
  lastActive: number;
  ended?: EndReason;
  /** When it ended: a byte cap's end stays known for `idleTimeoutMs`, for the peers to ask. */
  endedAt: number;
}

const SWEEP_INTERVAL_MS = 1000;

export class RelayTable {
  readonly limits: RelayLimits;
  /** Bytes relayed since start. */
  relayedBytes = 0;
  /** Non-rendezvous datagrams not relayed (unknown source, peer missing, over a limit). */
  dropped = 0;
  readonly #now: () => number;
  readonly #sessions = new Map<string, Session>();
  /** hostname → port → side: O(1) without building a key string per datagram. */
  readonly #index = new Map<string, Map<number, Side>>();
  #live = 0;
  #lastSweep = -Infinity;

  constructor(limits: Partial<RelayLimits>, now: () => number) {
    this.limits = mergeRelayLimits(DEFAULT_RELAY_LIMITS, limits);
    this.#now = now;
  }

  /** Live (not ended) sessions, after ending idle ones. */
  get size(): number {
    this.sweep(true);
    return this.#live;
  }

  /**
   * Records `from` as the address of peer `clientId` of the paired room `key`
   * whose peers are `ids` (the caller checked the token). Idempotent; a new
   * address for the same peer replaces the old one (NAT rebinding).
   */
  hello(
    key: string,
    ids: [Uint8Array, Uint8Array],
    clientId: Uint8Array,
    from: Deno.NetAddr,
  ): HelloAnswer {
    this.sweep(false);
    const index = equalBytes(ids[0], clientId) ? 0 : equalBytes(ids[1], clientId) ? 1 : undefined;
    if (index === undefined) return { kind: "error", code: ErrorCode.relayUnknown };
    const now = this.#now();
    let session = this.#sessions.get(key);
    if (session === undefined) {
      if (this.#live >= this.limits.maxSessions) {
        this.sweep(true);
        if (this.#live >= this.limits.maxSessions) {
          return { kind: "error", code: ErrorCode.relayFull };
        }
      }
      session = newSession(key, ids, relayBucket(this.limits, now), now);
      this.#sessions.set(key, session);
      this.#live++;
    } else if (!session.ended && now - session.lastActive >= this.limits.idleTimeoutMs) {
      this.#end(session, "idle");
    }
    if (session.ended) {
      return { kind: "error", ...endedError(session.ended, this.limits.maxBytes) };
    }
    session.lastActive = now;
    const old = session.addrs[index];
    const otherWasWaiting = session.addrs[1 - index] !== undefined && old === undefined;
    if (old === undefined || old.hostname !== from.hostname || old.port !== from.port) {
      if (old !== undefined) this.#unindex(old);
      const taken = this.#index.get(from.hostname)?.get(from.port);
      if (taken !== undefined) {
        // The address moved to another session (or side): it stops relaying for the old one.
        taken.session.addrs[taken.index] = undefined;
      }
      const addr: Deno.NetAddr = { transport: "udp", hostname: from.hostname, port: from.port };
      session.addrs[index] = addr;
      let byPort = this.#index.get(addr.hostname);
      if (byPort === undefined) this.#index.set(addr.hostname, byPort = new Map());
      byPort.set(addr.port, session.sides[index]);
    }
    const other = session.addrs[1 - index];
    if (other === undefined) return { kind: "waiting" };
    return otherWasWaiting
      ? { kind: "ready", notify: { id: session.ids[1 - index], addr: other } }
      : { kind: "ready" };
  }

  /**
   * The hot path: where a non-rendezvous datagram of `length` bytes from
   * `hostname:port` goes, or undefined to drop it (counted in `dropped`).
   */
  forward(hostname: string, port: number, length: number): Deno.NetAddr | undefined {
    const side = this.#index.get(hostname)?.get(port);
    const session = side?.session;
    const target = session?.addrs[1 - side!.index];
    if (target === undefined) {
      this.dropped++;
      return undefined;
    }
    const now = this.#now();
    if (now - session!.lastActive >= this.limits.idleTimeoutMs) {
      this.#end(session!, "idle");
      this.dropped++;
      return undefined;
    }
    if (session!.bytes + length > this.limits.maxBytes) {
      this.#end(session!, "bytes");
      this.dropped++;
      return undefined;
    }
    if (session!.bucket?.take(length, now) === false) {
      this.dropped++;
      return undefined;
    }
    session!.bytes += length;
    session!.lastActive = now;
    this.relayedBytes += length;
    return target;
  }

  /** Whether room `key` has a live session (which keeps the room's token valid). */
  alive(key: string): boolean {
    const session = this.#sessions.get(key);
    if (session === undefined) return false;
    const now = this.#now();
    if (session.ended) return this.#capEnded(session, now);
    return now - session.lastActive < this.limits.idleTimeoutMs;
  }

  /**
   * The error for room `key` when its byte cap ended its session lately: the
   * TCP relay answers it to a peer that asks why its link through this (UDP)
   * relay broke (../PROTOCOL.md, "Why a session ended").
   */
  capEnded(key: string): { code: number; limit?: number } | undefined {
    const session = this.#sessions.get(key);
    return session && this.#capEnded(session, this.#now())
      ? endedError(session.ended, this.limits.maxBytes)
      : undefined;
  }

  #capEnded(session: Session, now: number): boolean {
    return session.ended === "bytes" && now - session.endedAt < this.limits.idleTimeoutMs;
  }

  /** Forgets room `key`'s session (its room was freed). */
  remove(key: string): void {
    const session = this.#sessions.get(key);
    if (session === undefined) return;
    this.#end(session, "idle");
    this.#sessions.delete(key);
  }

  /** Ends idle sessions; unless `force`, at most once per second. */
  sweep(force: boolean): void {
    const now = this.#now();
    if (!force && now - this.#lastSweep < SWEEP_INTERVAL_MS) return;
    this.#lastSweep = now;
    for (const session of this.#sessions.values()) {
      if (!session.ended && now - session.lastActive >= this.limits.idleTimeoutMs) {
        this.#end(session, "idle");
      }
    }
  }

  #end(session: Session, reason: EndReason): void {
    if (session.ended) return;
    session.ended = reason;
    session.endedAt = this.#now();
    this.#live--;
    for (const addr of session.addrs) if (addr !== undefined) this.#unindex(addr);
    session.addrs[0] = session.addrs[1] = undefined;
  }

  #unindex(addr: Deno.NetAddr): void {
    const byPort = this.#index.get(addr.hostname);
    if (byPort === undefined) return;
    byPort.delete(addr.port);
    if (byPort.size === 0) this.#index.delete(addr.hostname);
  }
}

function newSession(
  key: string,
  ids: [Uint8Array, Uint8Array],
  bucket: TokenBucket | undefined,
  now: number,
): Session {
  const sides: Side[] = [];
  const session: Session = {
    key,
    ids,
    addrs: [undefined, undefined],
    sides: sides as unknown as [Side, Side],
    bucket,
    bytes: 0,
    lastActive: now,
    endedAt: 0,
  };
  sides.push({ session, index: 0 }, { session, index: 1 });
  return session;
}

/**
 * The replies to a UDP `relay-hello` from `from` for room `key` (whose peers
 * are `peers`, undefined when no live paired room has that token).
 */
export function relayHelloReplies(
  relays: RelayTable | undefined,
  key: string,
  peers: [Uint8Array, Uint8Array] | undefined,
  message: RelayHelloMessage,
  from: Deno.NetAddr,
): Outgoing[] {
  const clientId = message.clientId;
  const error = (code: number, limit?: number): Outgoing[] => [[
    encodeMessage({ type: "error", clientId, code, ...(limit === undefined ? {} : { limit }) }),
    from,
  ]];
  if (!relays) return error(ErrorCode.relayOff);
  if (peers === undefined) return error(ErrorCode.relayUnknown);
  const answer = relays.hello(key, peers, clientId, from);
  switch (answer.kind) {
    case "error":
      return error(answer.code, answer.limit);
    case "waiting":
      return [[encodeMessage({ type: "relay-waiting", clientId }), from]];
    default: {
      const out: Outgoing[] = [[encodeMessage({ type: "relay-ready", clientId }), from]];
      // The other peer was waiting: tell it now rather than at its next hello.
      if (answer.notify) {
        out.push([
          encodeMessage({ type: "relay-ready", clientId: answer.notify.id }),
          answer.notify.addr,
        ]);
      }
      return out;
    }
  }
}
