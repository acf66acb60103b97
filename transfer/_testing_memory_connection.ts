import { ConnectionLostError } from "../base/mod.ts";
import type { ByteStream, StreamConnection } from "./types.ts";

/**
 * An in-memory `StreamConnection` (tests). `close()` ends the connection like
 * a closed QUIC session: pending and later accepts reject, and every stream
 * of the pair fails with a `ConnectionLostError`.
 */
export interface MemoryConnection extends StreamConnection {
  close(): void;
}

/**
 * Two connected in-memory peers: a stream opened on one side is accepted on
 * the other. Each direction of a stream is a `TransformStream`, so
 * backpressure works as on a real stream.
 */
export function memoryConnectionPair(): [MemoryConnection, MemoryConnection] {
  const pipes: TransformStreamDefaultController<Uint8Array>[] = [];
  const a = new Side(pipes);
  const b = new Side(pipes);
  a.peer = b;
  b.peer = a;
  return [a.connection(), b.connection()];
}

const lost = (what: string) => new ConnectionLostError(`Cannot ${what}: memory connection closed`);

class Side {
  peer!: Side;
  #pipes: TransformStreamDefaultController<Uint8Array>[];
  #queue: ByteStream[] = [];
  #waiters: { resolve: (stream: ByteStream) => void; reject: (error: Error) => void }[] = [];
  #closed = false;

  constructor(pipes: TransformStreamDefaultController<Uint8Array>[]) {
    this.#pipes = pipes;
  }

  deliver(stream: ByteStream): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(stream);
    else this.#queue.push(stream);
  }

  /** Copies each chunk, as a socket does: a writer may reuse its buffer once the write is done. */
  #pipe(): TransformStream<Uint8Array, Uint8Array> {
    const pipes = this.#pipes;
    return new TransformStream<Uint8Array, Uint8Array>({
      start: (controller) => void pipes.push(controller),
      transform: (chunk, controller) => controller.enqueue(chunk.slice()),
    });
  }

  connection(): MemoryConnection {
    return {
      openStream: () => {
        if (this.#closed || this.peer.#closed) return Promise.reject(lost("open stream"));
        const outgoing = this.#pipe();
        const incoming = this.#pipe();
        this.peer.deliver({ readable: outgoing.readable, writable: incoming.writable });
        return Promise.resolve({ readable: incoming.readable, writable: outgoing.writable });
      },
      acceptStream: () => {
        const queued = this.#queue.shift();
        if (queued) return Promise.resolve(queued);
        if (this.#closed) return Promise.reject(lost("accept stream"));
        return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
      },
      close: () => {
        for (const side of [this, this.peer]) {
          side.#closed = true;
          for (const waiter of side.#waiters.splice(0)) waiter.reject(lost("accept stream"));
        }
        for (const pipe of this.#pipes.splice(0)) pipe.error(lost("use stream"));
      },
    };
  }
}
