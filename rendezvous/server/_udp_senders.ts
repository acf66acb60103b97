/**
 * Senders waiting for their receiver over UDP, so the server can push them
 * `paired` the moment the receiver registers instead of at their next poll
 * (../PROTOCOL.md, "Push"). One push per pairing, to the address the sender last
 * registered from, never larger than that request: it amplifies nothing.
 */
import type { RoomLimits } from "../store/mod.ts";

/** Where a waiting sender last registered from, and how many bytes that request had. */
export interface UdpSender {
  from: Deno.NetAddr;
  /** Bytes of the sender's last request: the most the push may send back. */
  requestBytes: number;
  /** When it was remembered (the server's clock). */
  at: number;
}

const PRUNE_INTERVAL_MS = 1000;

export class UdpSenders {
  /** By client id (hex), oldest poll first. */
  #waiting = new Map<string, UdpSender>();
  #maxEntries: number;
  #idleMs: number;
  #now: () => number;
  #lastPrune = -Infinity;

  /**
   * Entries not refreshed within the rooms' idle timeout (their room is freed
   * then too) go, and so do the oldest beyond one per room.
   */
  constructor(limits: Pick<RoomLimits, "maxRooms" | "idleTimeoutMs">, now: () => number) {
    this.#maxEntries = limits.maxRooms;
    this.#idleMs = limits.idleTimeoutMs;
    this.#now = now;
  }

  get size(): number {
    return this.#waiting.size;
  }

  /** A sender (client id in hex) was told `waiting`: remember (or refresh) where it waits. */
  remember(key: string, from: Deno.NetAddr, requestBytes: number): void {
    const now = Math.floor(this.#now());
    this.#waiting.delete(key);
    this.#waiting.set(key, { from, requestBytes, at: now });
    this.#prune(now);
  }

  /** The waiting sender with this id (hex), removed (it is pushed at most once). */
  take(key: string): UdpSender | undefined {
    const sender = this.#waiting.get(key);
    if (sender === undefined) return undefined;
    this.#waiting.delete(key);
    // One not refreshed within the idle timeout lost its room: nothing to push.
    return sender.at > this.#now() - this.#idleMs ? sender : undefined;
  }

  forget(key: string): void {
    this.#waiting.delete(key);
  }

  /**
   * Drops the oldest entries beyond the cap at once, and expired ones at most
   * once a second (`take` skips those meanwhile): not a walk per datagram.
   */
  #prune(now: number): void {
    if (this.#waiting.size <= this.#maxEntries && now - this.#lastPrune < PRUNE_INTERVAL_MS) {
      return;
    }
    this.#lastPrune = now;
    const oldest = now - this.#idleMs;
    for (const [key, sender] of this.#waiting) {
      if (sender.at > oldest && this.#waiting.size <= this.#maxEntries) return;
      this.#waiting.delete(key);
    }
  }
}
