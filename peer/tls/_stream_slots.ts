/**
 * The TLS link's streams by id. A stream's connection and the call that wants
 * it (`openStream` awaiting the peer's dial, `acceptStream`) come in either
 * order: a connection waits in its slot for its caller, or a caller for its
 * connection.
 */
import { TimeoutError } from "../../base/mod.ts";
import type { Channel } from "./_channel.ts";

interface Slot {
  channel?: Channel;
  waiter?: { resolve: (channel: Channel) => void; reject: (error: Error) => void };
}

export class StreamSlots {
  #slots = new Map<number, Slot>();
  /** Ids whose connection arrived or whose stream this side opened. */
  #used = new Set<number>();

  /** Marks `id` as taken by this side (an own stream it opened). */
  use(id: number): void {
    this.#used.add(id);
  }

  /** Whether a connection for `id` is welcome: the id is unused, or a caller waits for it. */
  welcomes(id: number): boolean {
    return !this.#used.has(id) || this.#slots.get(id)?.waiter !== undefined;
  }

  /** Hands `channel` to the caller waiting for `id`, or keeps it until one asks. */
  put(id: number, channel: Channel): void {
    const slot = this.#slots.get(id);
    this.#used.add(id);
    if (slot?.waiter) {
      this.#slots.delete(id);
      slot.waiter.resolve(channel);
    } else {
      this.#slots.set(id, { channel });
    }
  }

  /**
   * The connection of `id`, at once when it is here, else once it arrives;
   * with `timeout`, a TimeoutError with its message after its milliseconds.
   */
  take(id: number, timeout?: { ms: number; message: string }): Promise<Channel> {
    const slot = this.#slots.get(id);
    if (slot?.channel) {
      this.#slots.delete(id);
      return Promise.resolve(slot.channel);
    }
    return new Promise<Channel>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (timeout) {
        timer = setTimeout(() => {
          this.#slots.delete(id);
          reject(new TimeoutError(timeout.message));
        }, timeout.ms);
      }
      this.#slots.set(id, {
        waiter: {
          resolve: (channel) => (clearTimeout(timer), resolve(channel)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        },
      });
    });
  }

  /** The link is gone: every kept connection closes, every waiting caller gets `failure`. */
  fail(failure: Error): void {
    for (const slot of this.#slots.values()) {
      slot.channel?.close();
      slot.waiter?.reject(failure);
    }
    this.#slots.clear();
  }
}
