/**
 * The rule that picks between the two ways of finding the peer (the
 * rendezvous server and local discovery), free of sockets so it can be tested
 * on plain promises. peer/PROTOCOL.md, "Finding the peer", says why both sides
 * reach the same verdict.
 */
import { P2pftError } from "../../base/mod.ts";

export type Way = "server" | "local";

export interface PairingWays<S, L> {
  /** Pairs through the rendezvous server; absent when none is configured. */
  server?: (signal: AbortSignal) => Promise<S>;
  /**
   * Local discovery; absent when it is off. A receiver calls `seen` once it
   * has heard the sender's advert (it claims the offer next).
   */
  local?: (signal: AbortSignal, seen: () => void) => Promise<L>;
  /**
   * How long a receiver that has seen the sender on the LAN still waits for
   * the sender's answer to its claim once the server has paired it.
   */
  claimWaitMs: number;
  /** One way failed while the other still runs (never called for the last one). */
  onFailed?: (way: Way, error: unknown) => void;
  /**
   * Whether a way's failure ends the finding instead of leaving it to the other way: the
   * other one is stopped and this error thrown.
   */
  ends?: (way: Way, error: unknown) => boolean;
  signal?: AbortSignal;
}

export type Found<S, L> = { found: "server"; pairing: S } | { found: "local"; pairing: L };

type Outcome<S, L> =
  | { way: "server"; ok: true; value: S }
  | { way: "local"; ok: true; value: L }
  | { way: Way; ok: false; error: unknown };

/**
 * Runs both ways at once. A local pairing that completes always wins, on
 * both sides: the server's pairing is taken only once local discovery has
 * stopped without one (at once when the receiver never heard the sender,
 * after `claimWaitMs` when it did; a sender stops announcing at once). A
 * failed way is reported through `onFailed` while the other runs; when
 * every way failed, the last error is thrown.
 */
export async function racePairing<S, L>(ways: PairingWays<S, L>): Promise<Found<S, L>> {
  if (!ways.server && !ways.local) {
    throw new TypeError("Cannot find the peer: neither a rendezvous server nor local discovery");
  }
  const stopServer = new AbortController();
  const stopLocal = new AbortController();
  const within = (stop: AbortController) =>
    ways.signal ? AbortSignal.any([ways.signal, stop.signal]) : stop.signal;
  let seen = false;
  const running = new Map<Way, Promise<Outcome<S, L>>>();
  // A way that throws at once counts as a failed way, like one that rejects later.
  if (ways.server) {
    const server = ways.server;
    running.set(
      "server",
      (async () => await server(within(stopServer)))().then(
        (value) => ({ way: "server", ok: true, value }),
        (error) => ({ way: "server", ok: false, error }),
      ),
    );
  }
  if (ways.local) {
    const local = ways.local;
    running.set(
      "local",
      (async () => await local(within(stopLocal), () => seen = true))().then(
        (value) => ({ way: "local", ok: true, value }),
        (error) => ({ way: "local", ok: false, error }),
      ),
    );
  }
  let lastError: unknown;
  while (running.size > 0) {
    const outcome = await Promise.race(running.values());
    running.delete(outcome.way);
    if (!outcome.ok) {
      if (ways.ends?.(outcome.way, outcome.error)) {
        const reason = new P2pftError("The other way of finding the peer failed for good");
        stopServer.abort(reason);
        stopLocal.abort(reason);
        await Promise.all(running.values());
        throw outcome.error;
      }
      lastError = outcome.error;
      if (running.size > 0 && !ways.signal?.aborted) ways.onFailed?.(outcome.way, outcome.error);
      continue;
    }
    if (outcome.way === "local") {
      stopServer.abort(new P2pftError("The peer was found on the local network"));
      await running.get("server");
      return { found: "local", pairing: outcome.value };
    }
    const late = running.get("local");
    if (late) {
      const reason = new P2pftError("The rendezvous server paired us first");
      const timer = seen ? setTimeout(() => stopLocal.abort(reason), ways.claimWaitMs) : undefined;
      if (!seen) stopLocal.abort(reason);
      const settled = await late;
      clearTimeout(timer);
      if (settled.ok && settled.way === "local") return { found: "local", pairing: settled.value };
    }
    return { found: "server", pairing: outcome.value };
  }
  throw lastError;
}
