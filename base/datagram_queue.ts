/** The one datagram queue: a socket's read loop pushes, consumers take with a signal. */

/** A datagram with the address it came from. */
export interface Datagram {
  data: Uint8Array;
  from: Deno.NetAddr;
}

/**
 * A bounded queue of datagrams with cancellable waiters. Datagrams beyond
 * `maxQueued` are dropped (UDP may lose them anyway); after `fail`, queued
 * datagrams are still delivered, then every take rejects with the error.
 */
export class DatagramQueue {
  readonly #items: Datagram[] = [];
  readonly #waiters = new Set<
    { resolve: (item: Datagram) => void; reject: (e: unknown) => void }
  >();
  readonly #maxQueued: number;
  #failed = false;
  #error: unknown;

  constructor(maxQueued: number) {
    this.#maxQueued = maxQueued;
  }

  push(datagram: Datagram): void {
    const waiter = this.#waiters.values().next().value;
    if (waiter) {
      this.#waiters.delete(waiter);
      waiter.resolve(datagram);
    } else if (this.#items.length < this.#maxQueued) {
      this.#items.push(datagram);
    }
  }

  fail(error: unknown): void {
    this.#failed = true;
    this.#error = error;
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
  }

  /** The next datagram; an aborted signal rejects with its reason without taking one. */
  take(signal: AbortSignal): Promise<Datagram> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const queued = this.#items.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#failed) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(signal.reason);
      };
      const waiter = {
        resolve: (datagram: Datagram) => {
          signal.removeEventListener("abort", onAbort);
          resolve(datagram);
        },
        reject: (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
