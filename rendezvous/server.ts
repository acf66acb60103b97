/**
 * The UDP rendezvous server. It only ever replies to requests, never with
 * more bytes than the request, and drops (and counts) everything malformed,
 * oversized, too small for its reply, or over a source's rate limit.
 */
import { ProtocolError } from "../errors.ts";
import { RateLimiter } from "./_rate_limit.ts";
import { DEFAULT_ROOM_LIMITS, type RoomAnswer, RoomTable } from "./_rooms.ts";
import {
  decodeMessage,
  encodeMessage,
  isEncodableAddr,
  MAX_DATAGRAM_SIZE,
  MAX_REPLY_SIZE,
  type RendezvousMessage,
} from "./protocol.ts";

/** The port `p2pft serve` listens on unless told otherwise. */
export const DEFAULT_RENDEZVOUS_PORT = 9000;

export interface ServeOptions {
  /** Address to bind (default "0.0.0.0"). */
  hostname?: string;
  /** UDP port to bind (default 9000; 0 = any free port). */
  port?: number;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
  /** Datagrams per second one source may send (default 50). */
  ratePerSecond?: number;
  /** Datagrams a quiet source may send at once (default 100). */
  burst?: number;
  /** Most sources tracked by the rate limiter (default 65,536). */
  maxSources?: number;
  /** Most rooms at once (default 10,000). */
  maxRooms?: number;
  /** Most rooms one source may hold at once (default 32). */
  maxRoomsPerSource?: number;
  /** A waiting room whose sender stops polling this long is freed (default 10 s). */
  idleTimeoutMs?: number;
  /** A waiting room is freed after this long regardless (default 10 min). */
  maxWaitMs?: number;
  /** A paired room keeps answering retransmissions this long (default 30 s). */
  pairedLingerMs?: number;
  /**
   * What counts as one source for the rate limit and the room quota: `"ip"`
   * (default) or `"ip-port"` (each UDP port alone: lets tests on loopback
   * stand in many hosts with many sockets).
   */
  sourceKey?: "ip" | "ip-port";
}

export interface ServerStats {
  /** Datagrams received. */
  received: number;
  /** Dropped: oversized, undecodable, or a message the server does not take. */
  malformed: number;
  /** Dropped: their source was over its rate limit. */
  rateLimited: number;
  /** Dropped: too short to carry their reply (amplification guard). */
  tooSmall: number;
  /** Replies sent. */
  replies: number;
  /** Rooms held now. */
  rooms: number;
  /** Rooms that paired since start. */
  pairings: number;
  /** Sources the rate limiter tracks now. */
  sources: number;
  /** Unexpected errors survived (failed sends, bugs); should stay 0. */
  errors: number;
}

export class RendezvousServer implements AsyncDisposable {
  readonly addr: Deno.NetAddr;
  readonly #conn: Deno.DatagramConn;
  readonly #rooms: RoomTable;
  readonly #limiter: RateLimiter;
  readonly #byPort: boolean;
  readonly #signal?: AbortSignal;
  readonly #onAbort = () => void this.close();
  readonly #loop: Promise<void>;
  #closed = false;
  #counts = { received: 0, malformed: 0, rateLimited: 0, tooSmall: 0, replies: 0, errors: 0 };

  private constructor(conn: Deno.DatagramConn, options: ServeOptions) {
    this.#conn = conn;
    const { hostname, port } = conn.addr as Deno.NetAddr;
    this.addr = { transport: "udp", hostname, port };
    const now = () => performance.now();
    this.#rooms = new RoomTable({ ...DEFAULT_ROOM_LIMITS, ...definedLimits(options), now });
    this.#limiter = new RateLimiter({
      ratePerSecond: options.ratePerSecond ?? 50,
      burst: options.burst ?? 100,
      maxKeys: options.maxSources ?? 65_536,
      now,
    });
    this.#byPort = options.sourceKey === "ip-port";
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#loop = this.#serve();
  }

  /**
   * Binds the UDP socket now and starts serving.
   * @throws {TypeError|RangeError} for bad options; the bind error when the port is taken;
   * `signal.reason` when already aborted.
   */
  static listen(options: ServeOptions = {}): RendezvousServer {
    options.signal?.throwIfAborted();
    if (options.sourceKey !== undefined && !["ip", "ip-port"].includes(options.sourceKey)) {
      throw new TypeError(`Invalid sourceKey ${JSON.stringify(options.sourceKey)}`);
    }
    const port = options.port ?? DEFAULT_RENDEZVOUS_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`Invalid port ${port}: expected an integer from 0 to 65535`);
    }
    const conn = Deno.listenDatagram({
      transport: "udp",
      hostname: options.hostname ?? "0.0.0.0",
      port,
    });
    try {
      return new RendezvousServer(conn, options);
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  stats(): ServerStats {
    return {
      ...this.#counts,
      rooms: this.#rooms.size,
      pairings: this.#rooms.pairings,
      sources: this.#limiter.size,
    };
  }

  /** Stops serving and releases the socket. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#signal?.removeEventListener("abort", this.#onAbort);
      try {
        this.#conn.close();
      } catch {
        // already closed
      }
    }
    await this.#loop;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #serve(): Promise<void> {
    // One byte more than the limit, so an oversized datagram shows as such.
    const buffer = new Uint8Array(MAX_DATAGRAM_SIZE + 1);
    while (!this.#closed) {
      let data: Uint8Array;
      let from: Deno.NetAddr;
      try {
        const [received, addr] = await this.#conn.receive(buffer);
        data = received;
        from = addr as Deno.NetAddr;
      } catch (error) {
        if (this.#closed || error instanceof Deno.errors.BadResource) return;
        this.#counts.errors++;
        continue;
      }
      try {
        const reply = this.#handle(data, from);
        if (reply !== undefined) {
          await this.#conn.send(reply, from);
          this.#counts.replies++;
        }
      } catch (error) {
        if (this.#closed) return;
        if (error instanceof ProtocolError) this.#counts.malformed++;
        else this.#counts.errors++;
      }
    }
  }

  /** Returns the reply to send, or undefined to drop. Throws ProtocolError for junk. */
  #handle(data: Uint8Array, from: Deno.NetAddr): Uint8Array | undefined {
    this.#counts.received++;
    const source = this.#byPort ? `${from.hostname}:${from.port}` : from.hostname;
    if (!this.#limiter.allow(source)) {
      this.#counts.rateLimited++;
      return undefined;
    }
    if (!isEncodableAddr(from)) {
      throw new ProtocolError(`Cannot serve ${from.hostname}:${from.port}: only IPv4 is supported`);
    }
    const message = decodeMessage(data, { from });
    if (message.type === "leave") {
      this.#rooms.leave(message.clientId, message.nameplate);
      return undefined;
    }
    if (message.type !== "register") {
      throw new ProtocolError(
        `Cannot handle datagram from ${from.hostname}:${from.port}: ${message.type} is a reply`,
      );
    }
    // Check before touching any state: every answer to a register fits in MAX_REPLY_SIZE.
    if (data.length < MAX_REPLY_SIZE) {
      this.#counts.tooSmall++;
      return undefined;
    }
    const reply = encodeMessage(
      toMessage(message.clientId, this.#rooms.register(message, from, source)),
    );
    if (reply.length > data.length) {
      this.#counts.tooSmall++;
      return undefined;
    }
    return reply;
  }
}

function toMessage(clientId: Uint8Array, answer: RoomAnswer): RendezvousMessage {
  switch (answer.kind) {
    case "waiting":
      return { type: "waiting", clientId, nameplate: answer.nameplate, observed: answer.observed };
    case "paired":
      return {
        type: "paired",
        clientId,
        nameplate: answer.nameplate,
        token: answer.token,
        observed: answer.observed,
        peer: answer.peer,
      };
    default:
      return answer.nameplate === undefined
        ? { type: "error", clientId, code: answer.code }
        : { type: "error", clientId, code: answer.code, nameplate: answer.nameplate };
  }
}

function definedLimits(options: ServeOptions) {
  const out: Partial<typeof DEFAULT_ROOM_LIMITS> = {};
  for (const name of Object.keys(DEFAULT_ROOM_LIMITS) as (keyof typeof DEFAULT_ROOM_LIMITS)[]) {
    if (options[name] !== undefined) out[name] = options[name];
  }
  return out;
}
