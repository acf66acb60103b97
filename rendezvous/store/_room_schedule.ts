/**
 * When the room table looks at each room again: every room by the earliest
 * time it can expire (`Room.due`), so a sweep looks only at rooms now due, not
 * at every room held; and the few paired rooms past their linger that a relay
 * session holds, looked at again once a second. Whether a due room is freed
 * is the table's rule (`check`); this file only decides when to ask. Pure.
 */
import { Deadlines } from "./_deadlines.ts";
import { dueOf, FREED, HELD, type Room } from "./_room.ts";

/** How often paired rooms past their linger that a relay session still holds are looked at again. */
const HELD_RECHECK_MS = 1000;

/** What the schedule asks of its table. */
export interface ScheduledRooms {
  /** Frees `room` if it expired by `now`, else enters it again (`retrack`). */
  check(room: Room, now: number): void;
  /** How many rooms the table holds with a deadline. */
  count(): number;
  /** Each room the table holds with a deadline, once. */
  each(): Iterable<Room>;
}

export class RoomSchedule {
  readonly #limits: Parameters<typeof dueOf>[1];
  readonly #rooms: ScheduledRooms;
  /** A room's entry is stale once its `due` moved (or it was freed); stale entries are skipped. */
  readonly #deadlines = new Deadlines<Room>();
  /** Paired rooms past their linger that a relay session holds (`due` HELD): few. */
  readonly #held = new Set<Room>();
  #lastHeldCheck = -Infinity;

  constructor(limits: Parameters<typeof dueOf>[1], rooms: ScheduledRooms) {
    this.#limits = limits;
    this.#rooms = rooms;
  }

  /** Enters `room` at the earliest time it can expire. */
  track(room: Room): void {
    room.due = dueOf(room, this.#limits);
    this.#deadlines.add(room.due, room);
  }

  /** Enters `room` again after `now`: by when it can expire, or as held past its linger. */
  retrack(room: Room, now: number): void {
    if (dueOf(room, this.#limits) > now) return this.track(room);
    room.due = HELD;
    this.#held.add(room);
  }

  /** Whether pairing `room` moved its earliest expiry sooner than it is entered for. */
  sooner(room: Room): boolean {
    return dueOf(room, this.#limits) < room.due;
  }

  /** Marks `room` freed: its deadline entry is stale now. */
  forget(room: Room): void {
    room.due = FREED;
  }

  /**
   * Has the table check every room due by `now`, and the held ones once a
   * second (now with `force`). Past twice as many entries as rooms (rooms
   * freed early leave stale ones), the schedule starts afresh from the table's rooms.
   */
  sweep(now: number, force: boolean): void {
    const rooms = this.#rooms;
    const deadlines = this.#deadlines;
    while (deadlines.next <= now) {
      const due = deadlines.next;
      const room = deadlines.take()!;
      if (room.due === due) rooms.check(room, now); // else stale: moved, or freed
    }
    if (force || now - this.#lastHeldCheck >= HELD_RECHECK_MS) {
      this.#lastHeldCheck = now;
      const held = [...this.#held];
      this.#held.clear();
      for (const room of held) if (room.due === HELD) rooms.check(room, now); // else freed
    }
    if (deadlines.size > 2 * rooms.count() + 1024) {
      deadlines.clear();
      // Held ones wait in `#held`.
      for (const room of rooms.each()) if (room.due >= 0) deadlines.add(room.due, room);
    }
  }
}
