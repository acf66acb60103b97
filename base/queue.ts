/**
 * The one queue between a callback that produces and code that awaits: a socket's read loop
 * pushes datagrams, a listener's connection callback pushes connections; consumers take with a
 * signal.
 */

/** A datagram with the address it came from. */
export interface Datagram {
  data: Uint8Array;
  from: Deno.NetAddr;
}

/**
 * A bounded queue with cancellable waiters. Items beyond `maxQueued` are
 * dropped (UDP may lose datagrams anyway); after `fail`, queued items are
 * still delivered, then every take rejects with the first error.
 */
export class Queue<T> {
  readonly #items: T[] = [];
  readonly #waiters = new Set<
    { resolve: (item: T) => void; reject: (e: unknown) => void }
  >();
  readonly #maxQueued: number;
  #failed = false;
  #error: unknown;

  constructor(maxQueued: number) {
    this.#maxQueued = maxQueued;
  }

  push(item: T): void {
    const waiter = this.#waiters.values().next().value;
    if (waiter) {
      this.#waiters.delete(waiter);
      waiter.resolve(item);
    } else if (this.#items.length < this.#maxQueued) {
      this.#items.push(item);
    }
  }

  /** Ends the takes once the queue is empty; a later call changes nothing (the first cause stays). */
  fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = error;
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
  }

  /** The next item; an aborted signal rejects with its reason without taking one. */
  take(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    if (this.#failed) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter = {
        resolve: (item: T) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(item);
        },
        reject: (error: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** A socket's datagrams: beyond `maxQueued` unread ones, new ones are dropped. */
export class DatagramQueue extends Queue<Datagram> {}
