/**
 * A trivial {@link DatagramPort} over a `Deno.listenDatagram` socket with a
 * single background reader: for tests and simple tools. Keeps only
 * rendezvous datagrams (a bounded queue) and records datagram sizes.
 */
import type { DatagramPort } from "./client.ts";
import { isRendezvousDatagram } from "./protocol.ts";

const MAX_QUEUED = 64;

export class UdpDatagramPort implements DatagramPort, AsyncDisposable {
  readonly conn: Deno.DatagramConn;
  readonly addr: Deno.NetAddr;
  /** Sizes of datagrams sent and received, in order. */
  readonly sentSizes: number[] = [];
  readonly receivedSizes: number[] = [];
  readonly #queue: { data: Uint8Array; from: Deno.NetAddr }[] = [];
  readonly #waiters = new Map<
    (datagram: { data: Uint8Array; from: Deno.NetAddr }) => void,
    (error: Error) => void
  >();
  readonly #loop: Promise<void>;
  #closed = false;

  constructor(hostname = "127.0.0.1") {
    this.conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
    const bound = this.conn.addr as Deno.NetAddr;
    this.addr = { transport: "udp", hostname: bound.hostname, port: bound.port };
    this.#loop = this.#read();
  }

  async send(data: Uint8Array, to: Deno.NetAddr): Promise<void> {
    this.sentSizes.push(data.length);
    await this.conn.send(data, to);
  }

  receive(signal: AbortSignal): Promise<{ data: Uint8Array; from: Deno.NetAddr }> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("The port is closed"));
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(deliver);
        reject(signal.reason);
      };
      const deliver = (datagram: { data: Uint8Array; from: Deno.NetAddr }) => {
        signal.removeEventListener("abort", onAbort);
        resolve(datagram);
      };
      this.#waiters.set(deliver, (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      });
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.conn.close();
      for (const fail of this.#waiters.values()) {
        fail(new Deno.errors.BadResource("The port is closed"));
      }
      this.#waiters.clear();
    }
    await this.#loop;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #read(): Promise<void> {
    while (!this.#closed) {
      let data: Uint8Array;
      let from: Deno.NetAddr;
      try {
        const [received, addr] = await this.conn.receive();
        data = received;
        from = addr as Deno.NetAddr;
      } catch (error) {
        if (this.#closed || error instanceof Deno.errors.BadResource) return;
        continue;
      }
      if (!isRendezvousDatagram(data)) continue;
      this.receivedSizes.push(data.length);
      const datagram = { data, from };
      const waiter = this.#waiters.keys().next().value;
      if (waiter) {
        this.#waiters.delete(waiter);
        waiter(datagram);
      } else if (this.#queue.length < MAX_QUEUED) {
        this.#queue.push(datagram);
      }
    }
  }
}
