/** Failover across rendezvous instances that share rooms (../PROTOCOL.md, "Several instances"). */
import { formatAddr, TimeoutError } from "../../base/mod.ts";
import type { DatagramPort } from "./client.ts";

/**
 * Send errors after which no answer can come from that server: this host has
 * no route to its address family or network (an IPv6-only host and an IPv4
 * server, or the other way round).
 */
const UNREACHABLE = new Set(["ENETUNREACH", "EHOSTUNREACH", "EAFNOSUPPORT", "EADDRNOTAVAIL"]);

/**
 * `port`, whose `send` reports a server it cannot reach as a `TimeoutError`
 * at once: the failover then moves on without waiting out the server's silence.
 */
export function failFast(port: DatagramPort): DatagramPort {
  return {
    transport: port.transport,
    receive: (signal) => port.receive(signal),
    send: async (data, to) => {
      try {
        await port.send(data, to);
      } catch (error) {
        const code = (error as { code?: unknown })?.code;
        if (typeof code !== "string" || !UNREACHABLE.has(code)) throw error;
        throw new TimeoutError(
          `Cannot reach rendezvous server ${formatAddr(to)}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    },
  };
}

/** The servers to try in turn; gives up once each has failed since the last answer. */
export class Failover {
  readonly #servers: Deno.NetAddr[];
  #index = 0;
  #failedInARow = 0;

  constructor(servers: Deno.NetAddr[]) {
    this.#servers = servers;
  }

  get count(): number {
    return this.#servers.length;
  }

  get current(): Deno.NetAddr {
    return this.#servers[this.#index];
  }

  /** The current server failed: moves to the next; false when every one has failed in a row. */
  next(): boolean {
    this.#failedInARow++;
    if (this.#failedInARow >= this.#servers.length) return false;
    this.#index = (this.#index + 1) % this.#servers.length;
    return true;
  }

  answered(): void {
    this.#failedInARow = 0;
  }

  switched(): { server: Deno.NetAddr; serverText: string } {
    const server = this.current;
    return { server, serverText: formatAddr(server) };
  }

  /** The error once every server failed: `error` alone, or one naming them all. */
  timeout(error: unknown): unknown {
    if (this.#servers.length === 1 || !(error instanceof TimeoutError)) return error;
    const names = this.#servers.map(formatAddr).join(", ");
    return new TimeoutError(`No answer from any rendezvous server (${names})`, { cause: error });
  }
}
