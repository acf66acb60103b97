/**
 * The rendezvous room state machine: pure (no IO), clock and randomness
 * injected, so every rule is tested without sockets.
 *
 *   (none) --sender registers--> waiting --receiver registers--> paired
 *   waiting --sender silent idleTimeoutMs / older than maxWaitMs / leave--> (none)
 *   paired --pairedLingerMs after pairing, and no live relay session--> (none)
 *   paired --a send registration whose client id hashes to the room's `successor`--> (none),
 *            and a new waiting room on the same nameplate
 *   paired --both peers leave (each has its answer)--> released: the nameplate is free again;
 *            the token lives on (relay hellos) until the paired room would have been freed;
 *            a receiver meanwhile gets error 3 if the sender committed to a successor;
 *            the room leaves its source's quota of open rooms for its smaller share of released ones
 */
import { fromHex, mergeLimits, toHex as hex } from "../../base/mod.ts";
import { FadingKeys } from "./_fading_keys.ts";
import { NameplatePool } from "./_nameplate_pool.ts";
import { pooledRandom } from "./_random_pool.ts";
import {
  ErrorCode,
  MAX_NAMEPLATE,
  type RegisterMessage,
  type RendezvousTransport,
  TOKEN_SIZE,
} from "../wire/mod.ts";
import { RoomSchedule } from "./_room_schedule.ts";
import { answer, peerRecord, reopens, type Room, type RoomAnswer } from "./_room.ts";

export interface RoomLimits {
  /** Most rooms held at once. */
  maxRooms: number;
  /** Most rooms created by one source (see `sourceKey` in the server) held at once. */
  maxRoomsPerSource: number;
  /** A waiting room whose sender has not polled for this long is freed. */
  idleTimeoutMs: number;
  /** A waiting room older than this is freed even if polled. */
  maxWaitMs: number;
  /** A paired room keeps answering retransmissions for this long, then is freed. */
  pairedLingerMs: number;
}

export const DEFAULT_ROOM_LIMITS: RoomLimits = {
  maxRooms: 10_000,
  maxRoomsPerSource: 32,
  idleTimeoutMs: 10_000,
  maxWaitMs: 10 * 60_000,
  pairedLingerMs: 30_000,
};

/**
 * A source holds at most this many released rooms (both peers left; ../PROTOCOL.md, "Leaving a
 * paired room") per open room of its quota: they take no nameplate and no place under `maxRooms`,
 * so they count apart from the open ones (33 transfers in a row must not wait out 30 s lingers),
 * yet stay bounded per source (memory: a released room lives out the 30 s linger).
 */
export const RELEASED_PER_OPEN_ROOM = 4;

export interface RoomTableOptions extends Partial<RoomLimits> {
  /** Milliseconds clock. */
  now: () => number;
  /** Fills a buffer with random bytes (defaults to `crypto.getRandomValues`). */
  random?: (bytes: Uint8Array) => Uint8Array;
  /** Whether a paired room (by token, hex) is still in use (a live relay session): it then outlives `pairedLingerMs`. */
  isHeld?: (tokenKey: string) => boolean;
  /** Called when a paired room (by token, hex) is freed. */
  onFree?: (tokenKey: string) => void;
}

/** Where a registration came from, and when. */
interface Arrival {
  /** The client id in hex. */
  key: string;
  observed: Deno.NetAddr;
  /** The key the per-source room quota counts against. */
  source: string;
  transport: RendezvousTransport;
  now: number;
}

export class RoomTable {
  readonly limits: RoomLimits;
  readonly #now: () => number;
  readonly #random: (bytes: Uint8Array) => Uint8Array;
  /** Where each new token's random bytes are drawn before they become its hex key: reused. */
  readonly #tokenBytes = new Uint8Array(TOKEN_SIZE);
  readonly #rooms = new Map<number, Room>();
  /** Sender client id (hex) → nameplate, so allocation retransmits are idempotent. */
  readonly #senders = new Map<string, number>();
  /** Each source's open rooms (waiting, or paired and not left by both): its quota. */
  readonly #perSource = new Map<string, number>();
  /** Each source's released rooms, bounded apart (`RELEASED_PER_OPEN_ROOM`). */
  readonly #releasedPerSource = new Map<string, number>();
  readonly #byToken = new Map<string, Room>();
  readonly #isHeld: (tokenKey: string) => boolean;
  readonly #onFree?: (tokenKey: string) => void;
  readonly #pool: NameplatePool;
  /** When each room is looked at again (`_room_schedule.ts`). */
  readonly #schedule: RoomSchedule;
  /**
   * Senders whose room outlived `maxWaitMs` (client key → when), kept for
   * `idleTimeoutMs`: their next register must not take the room back, where
   * a sender whose room a restart lost gets it back (../PROTOCOL.md, "Restarts").
   */
  readonly #outlived: FadingKeys<string>;
  /**
   * Nameplates whose paired room was given back while its sender, serving several receivers,
   * committed to a successor (kept for `maxWaitMs` or until it registers): a receiver that comes
   * meanwhile is told the sender is busy (error 3), not that there is none.
   */
  readonly #between: FadingKeys<number>;
  /** Rooms whose nameplate was released (both peers left), until their token dies. */
  #releasedRooms = 0;
  #pairings = 0;

  constructor(options: RoomTableOptions) {
    this.limits = mergeLimits(DEFAULT_ROOM_LIMITS, options, { what: "", allowZero: true });
    const clock = options.now;
    // Whole milliseconds: room times stay small integers, stored inline, not boxed per room.
    this.#now = () => Math.floor(clock());
    this.#random = options.random ?? pooledRandom;
    this.#isHeld = options.isHeld ?? (() => false);
    this.#onFree = options.onFree;
    this.#pool = new NameplatePool(MAX_NAMEPLATE, (n) => this.#rooms.has(n));
    this.#schedule = new RoomSchedule(this.limits, {
      check: (room, now) => this.#check(room, now),
      count: () => this.#rooms.size + this.#releasedRooms,
      // Each room once: a released one is in `#byToken` only.
      each: () => [...this.#rooms.values(), ...this.#released()],
    });
    this.#outlived = new FadingKeys(this.limits.idleTimeoutMs, this.limits.maxRooms);
    this.#between = new FadingKeys(this.limits.maxWaitMs, this.limits.maxRooms);
  }

  /** Rooms held right now, released ones included (after dropping expired ones). */
  get size(): number {
    this.sweep(this.#now(), true);
    return this.#rooms.size + this.#releasedRooms;
  }

  /** How many rooms have paired since the table was created. */
  get pairings(): number {
    return this.#pairings;
  }

  /**
   * Handles one `register` from `observed` (the datagram's source address);
   * `source` is the key the per-source room quota counts against; `transport`
   * is how the message came (the peer is told).
   */
  register(
    message: RegisterMessage,
    observed: Deno.NetAddr,
    source: string,
    transport: RendezvousTransport = "udp",
  ): RoomAnswer {
    const now = this.#now();
    this.sweep(now);
    const from: Arrival = { key: hex(message.clientId), observed, source, transport, now };
    const wanted = message.nameplate === undefined ? undefined : Number(message.nameplate);
    return message.role === "send"
      ? this.#registerSender(message, wanted, from)
      : this.#registerReceiver(message, wanted, from);
  }

  /** A sender: its room again (a retransmit), or a new room on `wanted` or a free nameplate. */
  #registerSender(message: RegisterMessage, wanted: number | undefined, from: Arrival): RoomAnswer {
    const { key, observed, source, transport, now } = from;
    const held = this.#senders.get(key);
    if (held !== undefined) {
      const room = this.#live(held, now);
      if (room !== undefined) {
        if (wanted !== undefined && wanted !== held) {
          return { kind: "error", code: ErrorCode.clientConflict, nameplate: String(wanted) };
        }
        room.sender.lastSeen = now;
        if (room.receiver === undefined) room.sender.observed = observed;
        return answer(room, "send");
      }
    }
    if (message.poll || this.#outlived.has(key, now)) {
      return { kind: "error", code: ErrorCode.expired, nameplate: message.nameplate };
    }
    const taken = wanted === undefined ? undefined : this.#live(wanted, now);
    if (taken !== undefined && reopens(taken, message)) {
      // The sender served that room's receiver and asks for the next one.
      this.#free(taken);
    } else if (taken !== undefined) {
      return { kind: "error", code: ErrorCode.nameplateInUse, nameplate: String(wanted) };
    }
    // Expired rooms are gone already: the sweep in `register` freed every room due by now.
    if (this.#rooms.size >= this.limits.maxRooms) {
      return { kind: "error", code: ErrorCode.serverFull };
    }
    const quota = this.limits.maxRoomsPerSource;
    if ((this.#perSource.get(source) ?? 0) >= quota) {
      return { kind: "error", code: ErrorCode.tooManyRooms };
    }
    // Finished transfers in their linger: the client says so, from `limit` (old ones ignore it).
    const released = quota * RELEASED_PER_OPEN_ROOM;
    if ((this.#releasedPerSource.get(source) ?? 0) >= released) {
      return { kind: "error", code: ErrorCode.tooManyRooms, limit: released };
    }
    const nameplate = wanted ?? this.#pool.allocate();
    if (nameplate === undefined) return { kind: "error", code: ErrorCode.serverFull };
    this.#between.delete(nameplate);
    const room: Room = {
      nameplate,
      source,
      createdAt: now,
      sender: peerRecord(message, key, observed, transport, now),
      due: 0,
    };
    this.#schedule.track(room);
    this.#rooms.set(nameplate, room);
    this.#senders.set(key, nameplate);
    countIn(this.#perSource, source, 1);
    return answer(room, "send");
  }

  /** A receiver: pairs with the waiting sender of `wanted`, or hears why not. */
  #registerReceiver(
    message: RegisterMessage,
    wanted: number | undefined,
    from: Arrival,
  ): RoomAnswer {
    const { key, observed, transport, now } = from;
    const room = wanted === undefined ? undefined : this.#live(wanted, now);
    if (room === undefined) {
      const code = message.poll
        ? ErrorCode.expired
        : wanted !== undefined && this.#between.has(wanted, now)
        ? ErrorCode.roomFull
        : ErrorCode.noSender;
      return { kind: "error", code, nameplate: message.nameplate };
    }
    if (room.sender.key === key) {
      return { kind: "error", code: ErrorCode.clientConflict, nameplate: message.nameplate };
    }
    if (room.receiver !== undefined) {
      if (room.receiver.key !== key) {
        return { kind: "error", code: ErrorCode.roomFull, nameplate: message.nameplate };
      }
      room.receiver.lastSeen = now;
      return answer(room, "receive");
    }
    room.receiver = peerRecord(message, key, observed, transport, now);
    room.tokenKey = hex(this.#random(this.#tokenBytes));
    room.pairedAt = now;
    // Pairing sets a new expiry, sooner than the waiting room's when the linger is shorter.
    if (this.#schedule.sooner(room)) this.#schedule.track(room);
    this.#byToken.set(room.tokenKey, room);
    this.#pairings++;
    return answer(room, "receive");
  }

  /**
   * A waiting sender gives up its room, or a peer of a paired room says it
   * has its answer (once both did, the nameplate is free for a new sender;
   * the token lives on). Returns whether the room took the leave.
   */
  leave(clientId: Uint8Array, nameplate: string): boolean {
    const room = this.#live(Number(nameplate), this.#now());
    const key = hex(clientId);
    if (room === undefined) return false;
    if (room.receiver === undefined) {
      if (room.sender.key !== key) return false;
      this.#free(room);
      return true;
    }
    const side = room.sender.key === key ? 1 : room.receiver.key === key ? 2 : 0;
    if (side === 0) return false;
    room.left = (room.left ?? 0) | side;
    if (room.left === 3) {
      this.#release(room);
      this.#releasedRooms++;
      countIn(this.#perSource, room.source, -1);
      countIn(this.#releasedPerSource, room.source, 1);
    }
    return true;
  }

  /**
   * The client ids of the live paired room whose token is `tokenKey` (hex):
   * sender first, then receiver.
   */
  pairedPeers(tokenKey: string): [Uint8Array, Uint8Array] | undefined {
    const found = this.#byToken.get(tokenKey);
    const room = found?.released
      ? this.#unexpired(found)
      : found && this.#live(found.nameplate, this.#now());
    if (room !== found || room?.receiver === undefined) return undefined;
    return [fromHex(room.sender.key), fromHex(room.receiver.key)];
  }

  /**
   * Frees every room that expired by `now`; rooms a relay session held past
   * their linger are looked at again once a second, or now with `force`.
   */
  sweep(now = this.#now(), force = false): void {
    this.#schedule.sweep(now, force);
    this.#outlived.sweep(now);
    this.#between.sweep(now);
  }

  /** Frees `room` if it expired by `now`, else enters it again by when it can. */
  #check(room: Room, now: number): void {
    if (!this.#expired(room, now)) this.#schedule.retrack(room, now);
    else if (room.released) this.#free(room);
    else this.#expire(room, now);
  }

  /** The rooms whose nameplate was released, kept until their token dies. */
  *#released(): Iterable<Room> {
    for (const room of this.#byToken.values()) if (room.released) yield room;
  }

  /** The room on `nameplate` unless it expired by `now` (then it is freed). */
  #live(nameplate: number, now: number): Room | undefined {
    const room = this.#rooms.get(nameplate);
    if (room === undefined) return undefined;
    if (this.#expired(room, now)) {
      this.#expire(room, now);
      return undefined;
    }
    return room;
  }

  /** `room` (released), or undefined once it expired (then it is freed). */
  #unexpired(room: Room): Room | undefined {
    if (!this.#expired(room, this.#now())) return room;
    this.#free(room);
    return undefined;
  }

  #expire(room: Room, now: number): void {
    if (room.pairedAt === undefined && now - room.createdAt >= this.limits.maxWaitMs) {
      this.#outlived.add(room.sender.key, now);
    }
    this.#free(room);
  }

  #expired(room: Room, now: number): boolean {
    if (room.pairedAt !== undefined) {
      return now - room.pairedAt >= this.limits.pairedLingerMs && !this.#isHeld(room.tokenKey!);
    }
    return now - room.sender.lastSeen >= this.limits.idleTimeoutMs ||
      now - room.createdAt >= this.limits.maxWaitMs;
  }

  /** Gives the nameplate of a paired room back. */
  #release(room: Room): void {
    if (room.receiver !== undefined && room.sender.successor !== undefined) {
      this.#between.add(room.nameplate, this.#now());
    }
    room.released = true;
    this.#rooms.delete(room.nameplate);
    if (this.#senders.get(room.sender.key) === room.nameplate) {
      this.#senders.delete(room.sender.key);
    }
    this.#pool.release(room.nameplate);
  }

  #free(room: Room): void {
    this.#schedule.forget(room);
    if (room.released) {
      this.#releasedRooms--;
      countIn(this.#releasedPerSource, room.source, -1);
    } else {
      this.#release(room);
      countIn(this.#perSource, room.source, -1);
    }
    if (room.tokenKey !== undefined) {
      this.#byToken.delete(room.tokenKey);
      this.#onFree?.(room.tokenKey);
    }
  }
}

/** Adds `delta` to `key`'s count in `counts`, dropping a count that reaches 0. */
function countIn(counts: Map<string, number>, key: string, delta: number): void {
  const count = (counts.get(key) ?? 0) + delta;
  if (count > 0) counts.set(key, count);
  else counts.delete(key);
}
