/**
 * What connect.ts runs once the peer is found: the route pairing allows, the link (over TCP only,
 * or after punching), this side's early SPAKE2 share, the PAKE. A module of its own, loaded while
 * a side waits for its peer (connect.ts, `loadLinkPhase`): with it come pake/, tls/, quic/ and
 * the punching, which a side's first request to the rendezvous server does not need.
 */
import { abortable, withinDeadline } from "../base/mod.ts";
import type { TransportChoice } from "./_choose_transport.ts";
import type { FoundPeer } from "./find/mod.ts";
import type { LocalEnd } from "./_local_end.ts";
import { linkAfterPunch } from "./_punch_link.ts";
import { foundByServer, type Linked, type Route } from "./_route.ts";
import type { RelayedBy } from "./_session.ts";
import { linkOverTcp } from "./_tcp_only.ts";

export { planRoute } from "./_route.ts";
export { authenticate, endAfter } from "./_session.ts";
export { warmTlsClient } from "./tls/mod.ts";
export { EarlyShare } from "./_early_share.ts";

/**
 * The link phase: over TCP only where a side is on TCP only (or relay only
 * and the TCP relay is there), else after punching. With relay only, punching
 * through the UDP relay is the fallback when the TCP relay fails.
 */
async function link(
  route: Route,
  options: {
    end: LocalEnd;
    choice: TransportChoice;
    punchTimeoutMs?: number;
    signal?: AbortSignal;
  },
): Promise<Linked> {
  if (foundByServer(route) && (route.overTcp || (!route.plan.direct && route.tcpRelay))) {
    try {
      return await linkOverTcp(route, options);
    } catch (error) {
      if (route.overTcp || options.signal?.aborted) throw error;
    }
  }
  return await linkAfterPunch(route, options);
}

/**
 * How long a side stopped between pairing and the link (Ctrl-C) goes on setting up the link
 * its peer is making, to end it with the reason: the peer then says "The sender stopped:
 * Interrupted" at once, instead of waiting out its own deadlines for a link that never comes
 * and blaming a QUIC handshake or the path.
 */
const TELL_PEER_MS = 2_000;

/** {@link link}, which on a stop of ours ends the link (if it comes within TELL_PEER_MS) with why. */
export async function linkOrTell(
  route: Route,
  options: Parameters<typeof link>[1],
): Promise<Linked> {
  const own = new AbortController();
  const linking = link(route, { ...options, signal: own.signal });
  try {
    return await abortable(linking, options.signal);
  } catch (error) {
    // A failure of the link itself has left nothing to tell the peer through.
    const done = linking.catch(() => undefined);
    await withinDeadline(done, TELL_PEER_MS);
    own.abort(error);
    const message = error instanceof Error ? error.message : String(error);
    await (await done)?.won.link.close({ failed: true, message });
    throw error;
  }
}

/**
 * The relay that carries the link, asked why once it is lost (a cap says
 * which): the one `paired` named, after a failover or with a shared store not
 * necessarily the first server of the list; the UDP relay over UDP, which a
 * side on TCP only cannot use.
 */
export function relayedBy(linked: Linked, found: FoundPeer): RelayedBy | undefined {
  const pairing = { token: found.token, selfId: found.selfId };
  if (linked.won.kind === "relay-tls") return { addr: linked.won.relay, pairing };
  if (linked.facts.path === "relay" && found.transport.self === "udp" && found.relay) {
    return { addr: found.relay, pairing };
  }
  return undefined;
}
