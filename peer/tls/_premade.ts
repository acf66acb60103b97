/**
 * A LAN receiver's stream connections made (TCP and TLS) while it waits for READY, each handed
 * over, preamble written, when the session first dials its id (PROTOCOL.md, "Why beside READY"):
 * the sender's first write on a connection it accepted waits for its session tickets to be
 * acknowledged, ~40 ms, and these waits then pass during READY's own, when this side is idle.
 */
import type { Channel } from "./_channel.ts";
import { writePreamble } from "./_connect.ts";

export class PremadeStreams {
  readonly #made = new Map<number, Promise<Channel>>();
  readonly #stop = new AbortController();

  readonly #connect: (signal: AbortSignal) => Promise<Channel>;
  readonly #within: AbortSignal;

  /** Connections made with `connect` (TCP and TLS, no preamble), within `signal` or until dropped. */
  constructor(connect: (signal: AbortSignal) => Promise<Channel>, signal: AbortSignal) {
    this.#connect = connect;
    this.#within = AbortSignal.any([signal, this.#stop.signal]);
  }

  /** Starts making the connection of each stream id. */
  make(ids: number[]): void {
    for (const id of ids) {
      const made = this.#connect(this.#within);
      made.catch(() => {});
      this.#made.set(id, made);
    }
  }

  /**
   * Stream `id`'s connection with its preamble written; undefined if none was made for it or
   * making it failed (the caller dials it afresh).
   */
  async take(id: number, secret: Uint8Array, signal: AbortSignal): Promise<Channel | undefined> {
    const made = this.#made.get(id);
    if (!made) return undefined;
    this.#made.delete(id);
    const channel = await made.catch(() => undefined);
    if (!channel) return undefined;
    await writePreamble(channel, { kind: "stream", secret, streamId: id }, signal);
    return channel;
  }

  /** Stops and closes every connection not taken. */
  drop(): void {
    this.#stop.abort();
    for (const made of this.#made.values()) made.then((channel) => channel.close(), () => {});
    this.#made.clear();
  }
}
