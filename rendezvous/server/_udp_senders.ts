/**
 * Senders waiting for their receiver over UDP, so the server can push them
 * `paired` the moment the receiver registers instead of at their next poll
 * (../PROTOCOL.md, "Push"). One push per pairing, to the address the sender last
 * registered from, never larger than that request: it amplifies nothing.
 */
import { equalBytes } from "../../base/mod.ts";
import type { RoomLimits } from "../store/mod.ts";

/** Where a waiting sender last registered from, and how many bytes that request had. */
export interface UdpSender {
  /** Its client id (a copy of its own: the request's bytes are not kept). */
  id: Uint8Array;
  from: Deno.NetAddr;
  /** Bytes of the sender's last request: the most the push may send back. */
  requestBytes: number;
  /** When it was remembered (the server's clock). */
  at: number;
}

const PRUNE_INTERVAL_MS = 1000;

export class UdpSenders {
  /**
   * By nameplate, oldest poll first. A room has one sender and the answers
   * name the room: a number key costs no hex text of the id per request,
   * and the id in the entry tells a sender from a later one on the nameplate.
   */
  #waiting = new Map<number, UdpSender>();
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

  /** Sender `id` was told `waiting` on `nameplate`: remember (or refresh) where it waits. */
  remember(nameplate: number, id: Uint8Array, from: Deno.NetAddr, requestBytes: number): void {
    const now = Math.floor(this.#now());
    const known = this.#waiting.get(nameplate);
    this.#waiting.delete(nameplate);
    const same = known !== undefined && equalBytes(known.id, id);
    this.#waiting.set(nameplate, { id: same ? known.id : id.slice(), from, requestBytes, at: now });
    this.#prune(now);
  }

  /** Sender `id` waiting on `nameplate`, removed (it is pushed at most once). */
  take(nameplate: number, id: Uint8Array): UdpSender | undefined {
    const sender = this.#waiting.get(nameplate);
    if (sender === undefined || !equalBytes(sender.id, id)) return undefined;
    this.#waiting.delete(nameplate);
    // One not refreshed within the idle timeout lost its room: nothing to push.
    return sender.at > this.#now() - this.#idleMs ? sender : undefined;
  }

  /** Sender `id` left `nameplate`. */
  forget(nameplate: number, id: Uint8Array): void {
    const sender = this.#waiting.get(nameplate);
    if (sender !== undefined && equalBytes(sender.id, id)) this.#waiting.delete(nameplate);
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
