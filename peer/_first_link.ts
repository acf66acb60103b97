/**
 * Races ways of setting up the link: the first to succeed wins, the others
 * are stopped, and a link that still comes in after that is closed.
 */
import type { PeerLink } from "./link/mod.ts";

/** One way of setting up the link; a link through the TCP relay says which relay carries it. */
export type Way = { kind: "lan-tls" | "quic" } | { kind: "relay-tls"; relay: Deno.NetAddr };

/** The link that won and the way it was set up. */
export type Won = Way & { link: PeerLink };

export class LinkRace {
  readonly #stop = new AbortController();
  readonly #entries: Promise<Won>[] = [];
  #won = false;
  #winner: Won | undefined;

  /** Aborts once a link won (or the race is given up): pass it to every attempt (punching too). */
  readonly signal: AbortSignal;

  constructor(signal?: AbortSignal) {
    this.signal = AbortSignal.any([this.#stop.signal, ...(signal ? [signal] : [])]);
  }

  add(way: Way, attempt: Promise<PeerLink>): void {
    const entry = attempt.then((link) => {
      if (this.#won) {
        link.close({ failed: true, message: "another link was set up first" }).catch(() => {});
        throw new Error("lost the race");
      }
      this.#won = true;
      this.#winner = { ...way, link };
      this.#stop.abort();
      return this.#winner;
    });
    entry.catch(() => {});
    this.#entries.push(entry);
  }

  /** Stops every attempt; a link that still comes in is closed. */
  abandon(): void {
    this.#won = true;
    this.#stop.abort();
  }

  /** The winner so far, if any. */
  get winner(): Won | undefined {
    return this.#winner;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The first link set up; rejects with the last attempt's error when all failed. */
  async first(): Promise<Won> {
    try {
      return await Promise.any(this.#entries);
    } catch (error) {
      const errors = (error as AggregateError).errors ?? [error];
      throw errors[errors.length - 1];
    } finally {
      this.#stop.abort();
    }
  }
}
