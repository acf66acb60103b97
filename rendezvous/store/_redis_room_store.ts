/**
 * Rooms in Redis, shared by every instance pointed at the same server and
 * database (`serve --store redis://HOST:PORT[/DB]`). Each request is one
 * EVALSHA of `ROOM_SCRIPT` (atomic, one round trip). A request that Redis
 * cannot answer now (down, restarting, slow past `timeoutMs`) fails with
 * `StoreUnavailableError` at once: nothing queues behind a dead connection,
 * and the client reconnects on its own.
 */
import type { createClient } from "@redis/client";
import { fromHex, mergeLimits, StoreUnavailableError, toHex as hex } from "../../base/mod.ts";
import {
  COOKIE_SECRET_SIZE,
  MAX_NAMEPLATE,
  type RegisterMessage,
  type RendezvousTransport,
  TOKEN_SIZE,
} from "../wire/mod.ts";
import { LatencyHistogram } from "./_latency.ts";
import type { RoomStore } from "./_room_store.ts";
import type { RoomAnswer } from "./_room.ts";
import { DEFAULT_ROOM_LIMITS, RELEASED_PER_OPEN_ROOM, type RoomLimits } from "./_rooms.ts";
import { ROOM_SCRIPT } from "./_redis_script.ts";
import { peerJson, roomAnswer, type RoomJson } from "./_redis_json.ts";

export interface RedisRoomStoreOptions extends Partial<RoomLimits> {
  /** `redis://[[USER]:PASSWORD@]HOST:PORT[/DB]`. */
  url: string;
  /** Milliseconds clock shared by all instances (wall clock; default `Date.now`). */
  now?: () => number;
  /** Fills a buffer with random bytes (defaults to `crypto.getRandomValues`). */
  random?: (bytes: Uint8Array) => Uint8Array;
  /** This instance's relay, as peers elsewhere should reach it; absent = no relay. */
  relay?: Deno.NetAddr;
  /** Key prefix (default `p2pft:`), so several deployments can share one Redis. */
  prefix?: string;
  /** A request Redis has not answered within this long fails (default 2 s). */
  timeoutMs?: number;
  /** Called on each connection error (the client keeps reconnecting). */
  onError?: (error: Error) => void;
}

type RedisClient = ReturnType<typeof createClient>;

/**
 * The client library, loaded when a Redis store is first opened: importing it
 * costs ~0.3 s of start-up that `send`, `receive` and an in-memory `serve`
 * never need.
 */
const loadRedis = () => import("@redis/client");

const DEFAULT_TIMEOUT_MS = 2000;

/** Parses `redis://HOST:PORT[/DB]`. @throws {TypeError} with the value when it is not one. */
export function parseRedisUrl(
  text: string,
): { hostname: string; port: number; db: number; username?: string; password?: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new TypeError(`Invalid store ${JSON.stringify(text)}: expected redis://HOST:PORT[/DB]`, {
      cause,
    });
  }
  const db = url.pathname === "" || url.pathname === "/" ? 0 : Number(url.pathname.slice(1));
  if (url.protocol !== "redis:" || url.hostname === "" || !Number.isInteger(db) || db < 0) {
    throw new TypeError(`Invalid store ${JSON.stringify(text)}: expected redis://HOST:PORT[/DB]`);
  }
  const parsed = { hostname: url.hostname, port: Number(url.port || 6379), db };
  return url.password === "" ? parsed : {
    ...parsed,
    username: decodeURIComponent(url.username) || undefined,
    password: decodeURIComponent(url.password),
  };
}

export class RedisRoomStore implements RoomStore {
  readonly name: string;
  readonly shared = true;
  readonly limits: RoomLimits;
  readonly latency = new LatencyHistogram();
  /** The client, once its library is loaded (`#loading` resolves to it). */
  #client?: RedisClient;
  readonly #loading: Promise<RedisClient>;
  readonly #now: () => number;
  readonly #random: (bytes: Uint8Array) => Uint8Array;
  readonly #relay: string;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #connecting: Promise<unknown>;
  #sha?: string;
  #pairings = 0;
  #roundTrips = 0;
  #size = 0;
  #errors = 0;
  #lastError?: Error;
  #closed = false;
  /** Whether the client was ever connected (see `ready`). */
  #everReady = false;
  /** Requests sent and not answered yet, oldest first (see `#timed`). */
  readonly #inFlight = new Set<{ deadline: number; reject: (error: Error) => void }>();
  #timeout?: ReturnType<typeof setTimeout>;

  constructor(options: RedisRoomStoreOptions) {
    const { hostname, port, db, username, password } = parseRedisUrl(options.url);
    this.name = `redis://${hostname}:${port}/${db}`;
    this.limits = mergeLimits(DEFAULT_ROOM_LIMITS, options, { what: "", allowZero: true });
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? ((bytes) => crypto.getRandomValues(bytes));
    this.#relay = options.relay ? `${options.relay.hostname}:${options.relay.port}` : "";
    this.#prefix = options.prefix ?? "p2pft:";
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#loading = loadRedis().then(({ createClient }) => {
      const client = createClient({
        socket: {
          host: hostname,
          port,
          connectTimeout: this.#timeoutMs,
          // Keep trying, at most a second apart, so the store comes back with Redis.
          reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
        },
        database: db,
        username,
        password,
        disableOfflineQueue: true,
      });
      client.on("ready", () => this.#everReady = true);
      // Without a listener an 'error' event would end the process.
      client.on("error", (error: Error) => {
        this.#errors++;
        this.#lastError = error;
        options.onError?.(error);
      });
      return this.#client = client;
    });
    this.#connecting = this.#loading.then((client) => client.connect()).catch(() => {});
  }

  get pairings(): number {
    return this.#pairings;
  }

  get errors(): number {
    return this.#errors;
  }

  get size(): number {
    return this.#size;
  }

  get roundTrips(): number {
    return this.#roundTrips;
  }

  /**
   * Resolves once connected; rejects with StoreUnavailableError if `signal`
   * aborts first, or, while it has never connected, at the first connection
   * error (refused at once, unanswered after `timeoutMs`): a store that was
   * never there is a setting to fix, not an outage to wait out in silence.
   */
  async ready(signal?: AbortSignal): Promise<void> {
    const client = this.#client ?? await this.#loading;
    if (client.isReady) return;
    return await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        client.off("ready", connected);
        client.off("error", aborted);
        signal?.removeEventListener("abort", aborted);
      };
      const connected = () => {
        cleanup();
        resolve();
      };
      const aborted = () => {
        cleanup();
        reject(
          new StoreUnavailableError(
            `Cannot connect to the room store ${this.name}: ${
              this.#lastError?.message ?? "it did not answer"
            }`,
            { cause: this.#lastError ?? signal?.reason },
          ),
        );
      };
      const never = !this.#everReady;
      if (signal?.aborted || (never && this.#lastError !== undefined)) return aborted();
      client.on("ready", connected);
      if (never) client.on("error", aborted);
      signal?.addEventListener("abort", aborted, { once: true });
    });
  }

  async register(
    message: RegisterMessage,
    observed: Deno.NetAddr,
    source: string,
    transport: RendezvousTransport,
  ): Promise<RoomAnswer> {
    const id = hex(message.clientId);
    const info = peerJson(id, message, observed, transport);
    const token = message.role === "receive" ? hex(this.#random(new Uint8Array(TOKEN_SIZE))) : "";
    const reply = await this.#eval("register", [
      message.role,
      id,
      message.nameplate ?? "",
      message.poll ? "1" : "0",
      source,
      JSON.stringify(info),
      token,
      this.#relay,
      String(this.limits.maxRooms),
      String(this.limits.maxRoomsPerSource),
      String(MAX_NAMEPLATE),
      message.successor === undefined ? "0" : "1",
      String(this.limits.maxRoomsPerSource * RELEASED_PER_OPEN_ROOM),
    ]);
    const parsed = JSON.parse(String(reply)) as RoomJson | { e: number; n?: string; l?: number };
    if ("e" in parsed) {
      return {
        kind: "error",
        code: parsed.e,
        ...(parsed.n === undefined ? {} : { nameplate: parsed.n }),
        ...(parsed.l === undefined ? {} : { limit: parsed.l }),
      };
    }
    if (parsed.paired) this.#pairings++;
    return roomAnswer(parsed, message.role);
  }

  async leave(clientId: Uint8Array, nameplate: string): Promise<boolean> {
    return await this.#eval("leave", [hex(clientId), nameplate]) === 1;
  }

  async pairedPeers(tokenKey: string): Promise<[Uint8Array, Uint8Array] | undefined> {
    const reply = await this.#eval("peers", [tokenKey]);
    if (!Array.isArray(reply)) return undefined;
    return [fromHex(String(reply[0])), fromHex(String(reply[1]))];
  }

  /** `SET NX` a random secret under `cookie-secret` (the first instance wins), then read it. */
  async cookieSecret(): Promise<Uint8Array> {
    const key = `${this.#prefix}cookie-secret`;
    const candidate = hex(this.#random(new Uint8Array(COOKIE_SECRET_SIZE)));
    this.#roundTrips += 2;
    try {
      const client = this.#client ?? await this.#loading;
      await this.#timed(client.set(key, candidate, { NX: true }));
      const stored = await this.#timed(client.get(key));
      if (stored === null || !/^(?:[0-9a-f]{2}){16,}$/.test(stored)) {
        throw new StoreUnavailableError(
          `Room store ${this.name} holds no valid cookie secret under ${key}: ${stored}`,
        );
      }
      return fromHex(stored);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(
        `Room store ${this.name} failed on the cookie secret: ${
          (error as Error)?.message ?? error
        }`,
        { cause: error },
      );
    }
  }

  async rooms(): Promise<number> {
    return this.#size = Number(await this.#eval("rooms", []));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Connected: QUIT lets sent requests finish. Still (re)connecting: stop trying at once.
    const client = this.#client ?? await this.#loading;
    if (client.isReady) await client.quit().catch(() => {});
    if (client.isOpen) await client.disconnect().catch(() => {});
    await this.#connecting;
    clearTimeout(this.#timeout);
    this.#timeout = undefined;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** One EVALSHA (EVAL once per connection, and again after Redis lost its scripts). */
  async #eval(op: string, rest: string[]): Promise<unknown> {
    const { idleTimeoutMs, maxWaitMs, pairedLingerMs } = this.limits;
    const args = [
      op,
      this.#prefix,
      String(this.#now()),
      String(idleTimeoutMs),
      String(maxWaitMs),
      String(pairedLingerMs),
      ...rest,
    ];
    this.#roundTrips++;
    const started = performance.now();
    try {
      const client = this.#client ?? await this.#loading;
      if (this.#sha !== undefined) {
        try {
          return await this.#timed(client.evalSha(this.#sha, { arguments: args }));
        } catch (error) {
          if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
          // Redis restarted and lost its script cache.
          this.#sha = undefined;
          this.#roundTrips++;
        }
      }
      this.#sha ??= await this.#timed(client.scriptLoad(ROOM_SCRIPT));
      this.#roundTrips++;
      return await this.#timed(client.evalSha(this.#sha, { arguments: args }));
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(
        `Room store ${this.name} failed on ${op}: ${(error as Error)?.message ?? error}`,
        { cause: error },
      );
    } finally {
      this.latency.observe(performance.now() - started);
    }
  }

  /**
   * `request`, failed with StoreUnavailableError once `timeoutMs` passes
   * unanswered. One timer serves every request in flight (they all wait
   * equally long, so the oldest is always the next to time out): a timer and
   * a race per request cost more than the request.
   */
  #timed<T>(request: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { deadline: performance.now() + this.#timeoutMs, reject };
      this.#inFlight.add(entry);
      this.#armTimeout();
      request.then((value) => {
        this.#inFlight.delete(entry);
        resolve(value);
      }, (error) => {
        this.#inFlight.delete(entry);
        reject(error);
      });
    });
  }

  #armTimeout(): void {
    if (this.#timeout !== undefined) return;
    const oldest = this.#inFlight.values().next().value;
    if (oldest === undefined) return;
    this.#timeout = setTimeout(() => {
      this.#timeout = undefined;
      const now = performance.now();
      for (const entry of this.#inFlight) {
        if (entry.deadline > now) break;
        this.#inFlight.delete(entry);
        // A late answer after this is dropped, never left unhandled (`then` above handles it).
        entry.reject(
          new StoreUnavailableError(
            `Room store ${this.name} did not answer within ${this.#timeoutMs} ms`,
          ),
        );
      }
      this.#armTimeout();
    }, Math.max(0, oldest.deadline - performance.now()));
  }
}
