/**
 * Where rooms live: one interface, two implementations. `MemoryRoomStore`
 * (the default) keeps them in this process (`RoomTable`); `RedisRoomStore`
 * keeps them in Redis so several instances share them. Calls are async
 * because Redis is; the memory store answers without waiting on anything
 * (and `register`, the hot one, without a promise).
 */
import type { Awaitable } from "../../base/mod.ts";
import type { LatencyHistogram } from "./_latency.ts";
import type { RegisterMessage, RendezvousTransport } from "../wire/mod.ts";
import type { RoomAnswer } from "./_room.ts";
import { RoomTable, type RoomTableOptions } from "./_rooms.ts";

export interface RoomStore extends AsyncDisposable {
  /** `memory`, or the Redis URL without credentials: for logs and metrics. */
  readonly name: string;
  /** Whether other instances see the same rooms (then `paired` names the owning relay). */
  readonly shared: boolean;
  /** Rooms held: now for memory; for a shared store, at the last `rooms()` call. */
  readonly size: number;
  /** Rooms this instance paired since start. */
  readonly pairings: number;
  /** Round trips to the store since start (0 for memory). */
  readonly roundTrips: number;
  /** Connection errors since start (0 for memory); a shared store reconnects on its own. */
  readonly errors: number;
  /** How long requests to a shared store took (absent for memory: nothing to wait on). */
  readonly latency?: LatencyHistogram;
  /**
   * One `register` from `observed`; `source` keys the per-source room quota.
   * The memory store answers at once (not a promise): the server's request
   * path then runs without a single await.
   * @throws {StoreUnavailableError} when the shared store cannot answer.
   */
  register(
    message: RegisterMessage,
    observed: Deno.NetAddr,
    source: string,
    transport: RendezvousTransport,
  ): Awaitable<RoomAnswer>;
  /** A waiting sender gives its room up; whether a room was freed. */
  leave(clientId: Uint8Array, nameplate: string): Promise<boolean>;
  /** The client ids (sender, receiver) of the live paired room whose token is `tokenKey` (hex). */
  pairedPeers(tokenKey: string): Promise<[Uint8Array, Uint8Array] | undefined>;
  /** Rooms held now (by every instance, for a shared store). */
  rooms(): Promise<number>;
  /**
   * The cookie secret every instance on this store uses (created by the first
   * to ask), or undefined for memory: each process keeps its own.
   * @throws {StoreUnavailableError} when the shared store cannot answer.
   */
  cookieSecret(): Promise<Uint8Array | undefined>;
  /** Resolves once the store can answer (at once for memory). */
  ready(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** The in-process store: a `RoomTable` behind the async interface. */
export class MemoryRoomStore implements RoomStore {
  readonly name = "memory";
  readonly shared = false;
  readonly roundTrips = 0;
  readonly errors = 0;
  readonly #table: RoomTable;

  constructor(options: RoomTableOptions) {
    this.#table = new RoomTable(options);
  }

  get pairings(): number {
    return this.#table.pairings;
  }

  get size(): number {
    return this.#table.size;
  }

  register(
    message: RegisterMessage,
    observed: Deno.NetAddr,
    source: string,
    transport: RendezvousTransport,
  ): RoomAnswer {
    return this.#table.register(message, observed, source, transport);
  }

  leave(clientId: Uint8Array, nameplate: string): Promise<boolean> {
    return Promise.resolve(this.#table.leave(clientId, nameplate));
  }

  pairedPeers(tokenKey: string): Promise<[Uint8Array, Uint8Array] | undefined> {
    return Promise.resolve(this.#table.pairedPeers(tokenKey));
  }

  rooms(): Promise<number> {
    return Promise.resolve(this.#table.size);
  }

  cookieSecret(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
