/**
 * Receivers that came before their sender and wait for it (`register` with
 * `waitsForSender`), so that the server can pair them the moment the sender
 * registers and push them `paired`, instead of at their next ask
 * (../PROTOCOL.md, "Push"). One per nameplate: the last to ask.
 */
import { equalBytes } from "../../base/mod.ts";
import type { RoomLimits } from "../store/mod.ts";
import type { RegisterMessage } from "../wire/mod.ts";
import type { TcpClient } from "./_tcp_rendezvous.ts";

/** A waiting receiver's last `register`, as the server took it. */
export interface WaitingReceiver {
  message: RegisterMessage;
  from: Deno.NetAddr;
  source: string;
  /** Bytes of that request: the most a UDP push may send back. */
  requestBytes: number;
  /** Its connection, when it asked over TCP. */
  tcp?: TcpClient;
  /** When it last asked (the server's clock). */
  at: number;
}

/**
 * A receiver asks again at least every 300 ms while it waits; one silent for
 * longer than this has given up (or crashed), and pairing a sender with it
 * would spend the sender's code on nobody.
 */
const FRESH_MS = 1000;

export class WaitingReceivers {
  /** By nameplate, oldest ask first. */
  #waiting = new Map<string, WaitingReceiver>();
  #maxEntries: number;
  #now: () => number;

  constructor(limits: Pick<RoomLimits, "maxRooms">, now: () => number) {
    this.#maxEntries = limits.maxRooms;
    this.#now = now;
  }

  /** A receiver was told there is no sender (yet) on its nameplate: remember where it waits. */
  remember(receiver: Omit<WaitingReceiver, "at">): void {
    const nameplate = receiver.message.nameplate!;
    this.#waiting.delete(nameplate);
    this.#waiting.set(nameplate, { ...receiver, at: this.#now() });
    // The oldest go first: beyond the cap, or silent too long.
    const stale = this.#now() - FRESH_MS;
    for (const [key, entry] of this.#waiting) {
      if (entry.at > stale && this.#waiting.size <= this.#maxEntries) break;
      this.#waiting.delete(key);
    }
  }

  /** The receiver waiting on `nameplate`, removed; undefined if none asked recently. */
  take(nameplate: string): WaitingReceiver | undefined {
    const receiver = this.#waiting.get(nameplate);
    if (receiver === undefined) return undefined;
    this.#waiting.delete(nameplate);
    return receiver.at > this.#now() - FRESH_MS ? receiver : undefined;
  }

  /** The receiver `clientId` stopped waiting on `nameplate` (it sent `leave`). */
  forget(nameplate: string, clientId: Uint8Array): void {
    const receiver = this.#waiting.get(nameplate);
    if (receiver !== undefined && equalBytes(receiver.message.clientId, clientId)) {
      this.#waiting.delete(nameplate);
    }
  }

  /** A TCP connection closed: its receivers no longer wait. */
  closed(client: TcpClient): void {
    for (const [key, receiver] of this.#waiting) {
      if (receiver.tcp === client) this.#waiting.delete(key);
    }
  }
}
