import { type Datagram, DatagramQueue, normalizeAddr } from "../../base/mod.ts";
import { isIpv6 } from "./addresses.ts";

export type { Datagram };

/** One consumer's view of a shared UDP socket. */
export interface DatagramChannel {
  send(data: Uint8Array, to: Deno.NetAddr): Promise<void>;
  /** Next datagram routed to this channel; rejects with `signal.reason` on abort. */
  receive(signal: AbortSignal): Promise<Datagram>;
}

const MAX_QUEUED = 256;

export interface DatagramMuxOptions {
  /** A socket on the same port for IPv6 (`[::]:port`): IPv6 destinations are sent from it. */
  ipv6?: Deno.DatagramConn;
}

/**
 * Owns one UDP port (one socket, or an IPv4 and an IPv6 socket on the same
 * port number) with a read loop per socket and routes each datagram to the
 * channel whose predicate accepts it (rendezvous replies and punch probes share
 * the port, as the NAT mapping must be the same). Unrouted datagrams are dropped.
 * Sources are normalized (`normalizeAddr`): an IPv4 peer is never `::ffff:a.b.c.d`.
 */
export class DatagramMux implements AsyncDisposable {
  readonly #socket: Deno.DatagramConn;
  readonly #ipv6: Deno.DatagramConn | undefined;
  readonly #routes: Array<{ accepts: (data: Uint8Array) => boolean; queue: DatagramQueue }> = [];
  #closed = false;
  readonly #reading: Promise<unknown>;

  constructor(socket: Deno.DatagramConn, options: DatagramMuxOptions = {}) {
    this.#socket = socket;
    this.#ipv6 = options.ipv6;
    this.#reading = Promise.all(
      [socket, ...(this.#ipv6 ? [this.#ipv6] : [])].map((one) => this.#readLoop(one)),
    );
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
        const socket = this.#ipv6 && isIpv6(to.hostname) ? this.#ipv6 : this.#socket;
        await socket.send(data, to);
      },
      receive: (signal) => queue.take(signal),
    };
  }

  /**
   * Closes the sockets and resolves once their read loops ended: only then is the
   * port free to bind again (a pending receive holds its socket until then).
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
    this.#ipv6?.close();
    for (const route of this.#routes) {
      route.queue.fail(new Deno.errors.BadResource("The UDP socket is closed"));
    }
  }

  async #readLoop(socket: Deno.DatagramConn): Promise<void> {
    while (!this.#closed) {
      let data: Uint8Array;
      let from: Deno.Addr;
      try {
        [data, from] = await socket.receive();
      } catch (error) {
        if (this.#closed) return;
        // ICMP errors surface as receive errors on some systems; keep reading.
        if (error instanceof Deno.errors.ConnectionRefused) continue;
        this.#stop();
        return;
      }
      const route = this.#routes.find((candidate) => candidate.accepts(data));
      route?.queue.push({ data, from: normalizeAddr(from as Deno.NetAddr) });
    }
  }
}
