/**
 * The main and alt UDP ports' receive loop: one awaited receive per datagram
 * (as in the barest Deno UDP server) and the answer at once, unless the room
 * store has to be waited on; then the request stays in flight while the loop
 * takes the next datagram.
 */
import { receiveFailure } from "../sockets/mod.ts";
import { normalizeIp } from "../../base/mod.ts";
import { MAX_DATAGRAM_SIZE } from "../wire/mod.ts";

/** Requests one UDP socket keeps waiting on a shared store at once. */
const MAX_IN_FLIGHT = 256;

export interface RequestLoopHooks {
  /** Answers one datagram; a promise only while the answer waits (on a shared store). */
  control(data: Uint8Array, from: Deno.NetAddr): Promise<void> | undefined;
  closed(): boolean;
  /** A receive failed (the socket stays open). */
  onError(): void;
}

/** Serves `conn` until it closes; resolves once the requests in flight are answered too. */
export async function requestLoop(conn: Deno.DatagramConn, hooks: RequestLoopHooks): Promise<void> {
  // One byte more than the limit, so an oversized datagram shows as such.
  const buffer = new Uint8Array(MAX_DATAGRAM_SIZE + 1);
  const inFlight = new Set<Promise<void>>();
  while (!hooks.closed()) {
    let received;
    try {
      received = await conn.receive(buffer);
    } catch (error) {
      if (receiveFailure(error, hooks.closed()) === "closed") break;
      hooks.onError();
      continue;
    }
    const done = hooks.control(received[0], requestSource(received[1] as Deno.NetAddr));
    if (done === undefined) continue;
    // Each request is decoded before it waits on anything, so reusing `buffer` is safe.
    inFlight.add(done);
    done.finally(() => inFlight.delete(done));
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/**
 * The source of a datagram as a plain object of one shape. The runtime hands
 * its address out as an object in dictionary mode (V8's IC log shows every
 * read of its `hostname` or `port` going megamorphic), and the request path
 * reads them a dozen times per datagram, and rooms keep the address. A
 * dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d: one host, one
 * address.
 */
function requestSource(from: Deno.NetAddr): Deno.NetAddr {
  return { transport: "udp", hostname: normalizeIp(from.hostname), port: from.port };
}
