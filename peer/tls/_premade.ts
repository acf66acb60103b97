/**
 * Stream connections made before the session asks for them, each handed over when the session
 * first dials its id. A LAN receiver makes them while it waits for READY (PROTOCOL.md, "Why beside
 * READY"): the sender's first write on a connection it accepted waits for its session tickets to
 * be acknowledged, ~40 ms, and these waits then pass during READY's own, when this side is idle.
 * Through the relay both sides make the PAKE's stream beside the control connection, and the
 * sender's first streams as soon as the control connection's handshake said how many (PROTOCOL.md,
 * "Relay"), so that none waits for an OPEN and a relay dial of its own.
 */
import { abortable } from "../../base/mod.ts";
import type { Channel } from "./_channel.ts";
import { writePreamble } from "./_connect.ts";
import type { Preamble } from "./_wire.ts";

export class PremadeStreams<Made extends Pick<Channel, "close"> = Channel> {
  readonly #made = new Map<number, Promise<Made>>();
  readonly #stop = new AbortController();

  readonly #connect: (id: number, signal: AbortSignal) => Promise<Made>;
  readonly #within: AbortSignal;

  /** Connections made with `connect` for a stream id, within `signal` or until dropped. */
  constructor(
    connect: (id: number, signal: AbortSignal) => Promise<Made>,
    signal?: AbortSignal,
  ) {
    this.#connect = connect;
    this.#within = signal ? AbortSignal.any([signal, this.#stop.signal]) : this.#stop.signal;
  }

  /** Starts making the connection of each stream id. */
  make(ids: number[]): void {
    for (const id of ids) {
      const made = this.#connect(id, this.#within);
      made.catch(() => {});
      this.#made.set(id, made);
    }
  }

  /**
   * Stream `id`'s connection, once made; undefined if none was made for it or making it failed
   * (the caller makes it afresh). `signal` bounds the wait.
   */
  async take(id: number, signal: AbortSignal): Promise<Made | undefined> {
    const made = this.#made.get(id);
    if (!made) return undefined;
    this.#made.delete(id);
    return await abortable(made, signal).catch((error) => {
      made.then((late) => late.close(), () => {});
      if (signal.aborted) throw error;
      return undefined;
    });
  }

  /** Stops and closes every connection not taken. */
  drop(): void {
    this.#stop.abort();
    for (const made of this.#made.values()) made.then((late) => late.close(), () => {});
    this.#made.clear();
  }
}

/**
 * The receiver's `dial` for its session: stream `id`'s connection made ahead, its preamble written
 * now, or else a new one from `connect` (which writes the preamble itself).
 */
export function dialMadeOrNew(
  premade: PremadeStreams,
  options: {
    secret: Uint8Array;
    connect: (id: number, signal: AbortSignal, preamble: Preamble) => Promise<Channel>;
  },
): (id: number, signal: AbortSignal) => Promise<Channel> {
  return async (id, signal) => {
    const preamble: Preamble = { kind: "stream", secret: options.secret, streamId: id };
    const made = await premade.take(id, signal);
    if (!made) return await options.connect(id, signal, preamble);
    await writePreamble(made, preamble, signal);
    return made;
  };
}
