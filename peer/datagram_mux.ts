import { type Datagram, DatagramQueue } from "../datagram_queue.ts";

export type { Datagram };

/** One consumer's view of a shared UDP socket. */
export interface DatagramChannel {
  send(data: Uint8Array, to: Deno.NetAddr): Promise<void>;
  /** Next datagram routed to this channel; rejects with `signal.reason` on abort. */
  receive(signal: AbortSignal): Promise<Datagram>;
}

const MAX_QUEUED = 256;

/**
 * Owns one UDP socket with a single read loop and routes each datagram to the
 * channel whose predicate accepts it (rendezvous replies and punch probes share
 * the socket, as the NAT mapping must be the same). Unrouted datagrams are dropped.
 */
export class DatagramMux implements AsyncDisposable {
  readonly #socket: Deno.DatagramConn;
  readonly #routes: Array<{ accepts: (data: Uint8Array) => boolean; queue: DatagramQueue }> = [];
  #closed = false;
  readonly #reading: Promise<void>;

  constructor(socket: Deno.DatagramConn) {
    this.#socket = socket;
    this.#reading = this.#readLoop();
  }

  get port(): number {
    return (this.#socket.addr as Deno.NetAddr).port;
  }

  channel(accepts: (data: Uint8Array) => boolean): DatagramChannel {
    const queue = new DatagramQueue(MAX_QUEUED);
    this.#routes.push({ accepts, queue });
    return {
      send: async (data, to) => {
        if (this.#closed) throw new Deno.errors.BadResource("The UDP socket is closed");
        await this.#socket.send(data, to);
      },
      receive: (signal) => queue.take(signal),
    };
  }

  /**
   * Closes the socket and resolves once its read loop ended: only then is the
   * port free to bind again (the pending receive holds the socket until then).
   */
  async close(): Promise<void> {
    this.#stop();
    await this.#reading;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    for (const route of this.#routes) {
      route.queue.fail(new Deno.errors.BadResource("The UDP socket is closed"));
    }
  }

  async #readLoop(): Promise<void> {
    while (!this.#closed) {
      let data: Uint8Array;
      let from: Deno.Addr;
      try {
        [data, from] = await this.#socket.receive();
      } catch (error) {
        if (this.#closed) return;
        // ICMP errors surface as receive errors on some systems; keep reading.
        if (error instanceof Deno.errors.ConnectionRefused) continue;
        this.#stop();
        return;
      }
      const route = this.#routes.find((candidate) => candidate.accepts(data));
      route?.queue.push({ data, from: from as Deno.NetAddr });
    }
  }
}
