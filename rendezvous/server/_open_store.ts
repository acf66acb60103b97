/** Picks the room store `ServeOptions.store` names and wires it to this instance's relays. */
import { MemoryRoomStore, RedisRoomStore, type RoomLimits, type RoomStore } from "../store/mod.ts";

export interface OpenStoreOptions {
  /** `ServeOptions.store`: undefined or `memory`, else `redis://HOST:PORT[/DB]`. */
  store?: string;
  limits: RoomLimits;
  /** This instance's relay as peers anywhere reach it (public address, relay port). */
  relay?: Deno.NetAddr;
  /** Whether a paired room (by token, hex) has a live relay session here. */
  isHeld: (tokenKey: string) => boolean;
  /** A paired room (by token, hex) was freed: its relay sessions end. */
  onFree: (tokenKey: string) => void;
}

export function openRoomStore(options: OpenStoreOptions): RoomStore {
  if (options.store === undefined || options.store === "memory") {
    return new MemoryRoomStore({
      ...options.limits,
      now: () => performance.now(),
      isHeld: options.isHeld,
      onFree: options.onFree,
    });
  }
  // A shared room outlives this instance: its relay sessions end on their own limits
  // (idle, bytes), not with the room.
  return new RedisRoomStore({
    ...options.limits,
    url: options.store,
    relay: options.relay,
  });
}
