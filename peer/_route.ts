/**
 * The phase between finding the peer and setting up the link (connect.ts):
 * what the pairing allows. The punch plan, the TCP relay if it may carry the
 * link, and whether a side is on TCP only. Pure but for the interface list.
 */
import { formatAddr, NoPathError } from "../base/mod.ts";
import { dialTcpRelayWith } from "../rendezvous/mod.ts";
import {
  hasGlobalIpv6,
  isIpv6,
  localCandidates,
  planPunch,
  type PunchPlan,
  type RelayMode,
} from "./punch/mod.ts";
import type { FoundPeer, ServerFound } from "./find/mod.ts";
import type { Won } from "./_first_link.ts";
import type { PathFacts } from "./_session.ts";
import type { RelayDial } from "./tls/mod.ts";
import type { TransportChoice } from "./_choose_transport.ts";

/** The server's TCP relay, offered, allowed (not `--relay never`) and usable (not `--transport quic`). */
export interface TcpRelay {
  addr: Deno.NetAddr;
  dial: RelayDial;
}

export interface Route<Found extends FoundPeer = FoundPeer> {
  found: Found;
  plan: PunchPlan;
  tcpRelay?: TcpRelay;
  /** A side reached the rendezvous server over TCP only: no punching, TCP links only. */
  overTcp: boolean;
  /** The peer's address as the server saw it (absent when found on the LAN). */
  observedPeer?: Deno.NetAddr;
}

/** What the link phase gives the PAKE: the link, the path's facts and what the PAKE binds to. */
export interface Linked {
  won: Won;
  facts: PathFacts;
  /** The sender's certificate fingerprint, which the PAKE's key confirmation covers. */
  channelBinding: Uint8Array;
}

export interface RouteOptions {
  role: "sender" | "receiver";
  relay: RelayMode;
  choice: TransportChoice;
  /** The punch port, and whether it has an IPv6 socket. */
  port: number;
  ipv6Socket: boolean;
}

/** Throws `NoPathError` when the options leave no way to the peer that pairing found. */
export function planRoute(found: FoundPeer, options: RouteOptions): Route {
  const observedPeer = found.peer.observed;
  const ipv6 = options.ipv6Socket &&
    hasGlobalIpv6([
      ...localCandidates(options.port),
      ...(found.observed ? [found.observed] : []),
    ]) &&
    hasGlobalIpv6([...found.peer.candidates, ...(observedPeer ? [observedPeer] : [])]);
  const plan = planPunch({ ...found.nat, ipv6 }, relayMode(found, options));
  if (plan.direct === false && !found.relay) {
    throw new NoPathError(
      `Cannot connect through the relay only: ${
        found.server
          ? `the rendezvous server ${formatAddr(found.server)} offers no relay`
          : "the peer was found on the local network, without a relay"
      }`,
    );
  }
  const overTcp = found.transport.self === "tcp" || found.transport.peer === "tcp";
  if (overTcp && options.choice === "quic") {
    throw new NoPathError(
      `--transport quic needs UDP between the peers, but ${
        found.transport.self === "tcp" ? "this side" : `the ${peerName(options)}`
      } reached the rendezvous server over TCP only`,
    );
  }
  return { found, plan, tcpRelay: tcpRelay(found, options), overTcp, observedPeer };
}

/**
 * A peer that takes only the relay (`--relay-only`, passed on at pairing) never answers on a
 * direct path: a side that allows the relay joins it at once instead of punching first, and one
 * that never relays says so at once instead of after punching's deadline.
 */
function relayMode(found: FoundPeer, options: RouteOptions): RelayMode {
  const peerOnly = found.found === "server" && found.peer.relayOnly;
  if (peerOnly && options.relay === "never") {
    throw new NoPathError(
      `The ${
        peerName(options)
      } takes only the relay (--relay-only) and this side never relays (--no-relay): run one of them without its flag`,
    );
  }
  return peerOnly ? "only" : options.relay;
}

function peerName(options: RouteOptions): string {
  return options.role === "sender" ? "receiver" : "sender";
}

/** The peer was found through the rendezvous server (so a TCP-only link may be set up). */
export function foundByServer(route: Route): route is Route<ServerFound> {
  return route.found.found === "server";
}

/** Birthday punching is for an IPv4 NAT's unknown ports: the peer's observed IPv4 address. */
export function observedIpv4(route: Route): Deno.NetAddr | undefined {
  const observed = route.observedPeer;
  return observed && !isIpv6(observed.hostname) ? observed : undefined;
}

function tcpRelay(found: FoundPeer, options: RouteOptions): TcpRelay | undefined {
  if (!found.relay || options.relay === "never" || options.choice === "quic") return undefined;
  const addr: Deno.NetAddr = { ...found.relay, transport: "tcp" };
  return {
    addr,
    dial: (channel, signal, connect) =>
      dialTcpRelayWith(addr, {
        token: found.token,
        selfId: found.selfId,
        channel,
        signal,
        connect,
      }),
  };
}
