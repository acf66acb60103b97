/** Failover across rendezvous instances that share rooms (PROTOCOL.md, "Several instances"). */
import { TimeoutError } from "../errors.ts";

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
    return { server, serverText: `${server.hostname}:${server.port}` };
  }

  /** The error once every server failed: `error` alone, or one naming them all. */
  timeout(error: unknown): unknown {
    if (this.#servers.length === 1 || !(error instanceof TimeoutError)) return error;
    const names = this.#servers.map((s) => `${s.hostname}:${s.port}`).join(", ");
    return new TimeoutError(`No answer from any rendezvous server (${names})`, { cause: error });
  }
}
