/**
 * Senders waiting for their receiver over UDP, so the server can push them
 * `paired` the moment the receiver registers instead of at their next poll
 * (PROTOCOL.md, "Push"). One push per pairing, to the address the sender last
 * registered from, never larger than that request: it amplifies nothing.
 */
import { toHex } from "../bytes.ts";
import type { RegisterMessage } from "./protocol.ts";
import type { RoomLimits } from "./_rooms.ts";

export interface UdpSender {
  message: RegisterMessage;
  from: Deno.NetAddr;
  source: string;
  /** Bytes of the sender's last request: the most the push may send back. */
  requestBytes: number;
}

export class UdpSenders {
  /** By client id, oldest poll first. */
  #waiting = new Map<string, UdpSender & { at: number }>();
  #maxEntries: number;
  #idleMs: number;
  #now: () => number;

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

  /** A sender was told `waiting`: remember (or refresh) where it waits. */
  remember(sender: UdpSender): void {
    const key = toHex(sender.message.clientId);
    this.#waiting.delete(key);
    this.#waiting.set(key, { ...sender, at: this.#now() });
    this.#prune();
  }

  /** The waiting sender with this id, removed (it is pushed at most once). */
  take(clientId: Uint8Array): UdpSender | undefined {
    this.#prune();
    const key = toHex(clientId);
    const sender = this.#waiting.get(key);
    this.#waiting.delete(key);
    return sender;
  }

  forget(clientId: Uint8Array): void {
    this.#waiting.delete(toHex(clientId));
  }

  #prune(): void {
    const oldest = this.#now() - this.#idleMs;
    for (const [key, sender] of this.#waiting) {
      if (sender.at > oldest && this.#waiting.size <= this.#maxEntries) return;
      this.#waiting.delete(key);
    }
  }
}
