import type { ByteStream, StreamConnection } from "./types.ts";

/** An in-memory `StreamConnection` (tests); `close()` rejects pending and later accepts. */
export interface MemoryConnection extends StreamConnection {
  close(): void;
}

/**
 * Two connected in-memory peers: a stream opened on one side is accepted on
 * the other. Each direction of a stream is a `TransformStream`, so
 * backpressure works as on a real stream.
 */
export function memoryConnectionPair(): [MemoryConnection, MemoryConnection] {
  const a = new Side();
  const b = new Side();
  a.peer = b;
  b.peer = a;
  return [a.connection(), b.connection()];
}

class Side {
  peer!: Side;
  #queue: ByteStream[] = [];
  #waiters: { resolve: (stream: ByteStream) => void; reject: (error: Error) => void }[] = [];
  #closed = false;

  deliver(stream: ByteStream): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(stream);
    else this.#queue.push(stream);
  }

  connection(): MemoryConnection {
    return {
      openStream: () => {
        if (this.#closed || this.peer.#closed) {
          return Promise.reject(new Error("Cannot open stream: memory connection closed"));
        }
        const outgoing = new TransformStream<Uint8Array, Uint8Array>();
        const incoming = new TransformStream<Uint8Array, Uint8Array>();
        this.peer.deliver({ readable: outgoing.readable, writable: incoming.writable });
        return Promise.resolve({ readable: incoming.readable, writable: outgoing.writable });
      },
      acceptStream: () => {
        const queued = this.#queue.shift();
        if (queued) return Promise.resolve(queued);
        if (this.#closed) {
          return Promise.reject(new Error("Cannot accept stream: memory connection closed"));
        }
        return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
      },
      close: () => {
        this.#closed = true;
        for (const waiter of this.#waiters.splice(0)) {
          waiter.reject(new Error("Cannot accept stream: memory connection closed"));
        }
      },
    };
  }
}
