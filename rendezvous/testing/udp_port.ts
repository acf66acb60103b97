/**
 * A trivial {@link DatagramPort} over a `Deno.listenDatagram` socket with a
 * single background reader: for tests and simple tools. Keeps rendezvous
 * datagrams (a bounded queue) and records their sizes; with `keepOther`, also
 * keeps the other datagrams in a second queue (`receiveOther`).
 */
import type { DatagramPort } from "../client/mod.ts";
import { type Datagram, DatagramQueue } from "../../base/mod.ts";
import { isRendezvousDatagram } from "../wire/mod.ts";

const MAX_QUEUED = 64;

export class UdpDatagramPort implements DatagramPort, AsyncDisposable {
  readonly conn: Deno.DatagramConn;
  readonly addr: Deno.NetAddr;
  /** Sizes of rendezvous datagrams sent and received, in order. */
  readonly sentSizes: number[] = [];
  /** The rendezvous datagrams sent, in order. */
  readonly sent: Uint8Array[] = [];
  readonly receivedSizes: number[] = [];
  readonly #rendezvous: DatagramQueue;
  readonly #other?: DatagramQueue;
  readonly #loop: Promise<void>;
  #closed = false;

  /**
   * Binds `hostname` port 0 (or `options.port`). `options.queue` lets several
   * ports deliver their rendezvous datagrams into one queue.
   */
  constructor(
    hostname = "127.0.0.1",
    options: { keepOther?: boolean; port?: number; queue?: DatagramQueue } = {},
  ) {
    this.#rendezvous = options.queue ?? new DatagramQueue(MAX_QUEUED);
    this.conn = Deno.listenDatagram({ transport: "udp", hostname, port: options.port ?? 0 });
    const bound = this.conn.addr as Deno.NetAddr;
    this.addr = { transport: "udp", hostname: bound.hostname, port: bound.port };
    if (options.keepOther) this.#other = new DatagramQueue(MAX_QUEUED);
    this.#loop = this.#read();
  }

  async send(data: Uint8Array, to: Deno.NetAddr): Promise<void> {
    if (isRendezvousDatagram(data)) {
      this.sentSizes.push(data.length);
      this.sent.push(data.slice());
    }
    await this.conn.send(data, to);
  }

  receive(signal: AbortSignal): Promise<Datagram> {
    return this.#rendezvous.take(signal);
  }

  /** The next non-rendezvous datagram (needs `keepOther`). */
  receiveOther(signal: AbortSignal): Promise<Datagram> {
    if (!this.#other) throw new TypeError("This port was made without keepOther");
    return this.#other.take(signal);
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.conn.close();
      this.#rendezvous.fail(new Deno.errors.BadResource("The port is closed"));
      this.#other?.fail(new Deno.errors.BadResource("The port is closed"));
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
      if (isRendezvousDatagram(data)) {
        this.receivedSizes.push(data.length);
        this.#rendezvous.push({ data, from });
      } else {
        this.#other?.push({ data, from });
      }
    }
  }
}
