/**
 * Setting up the link without punching (a side registered over TCP, or
 * `--relay-only`): LAN TLS to the sender's private addresses, then the TCP
 * relay. Returns the link and the path facts the CLI words.
 */
import { NoPathError, ProtocolError } from "../base/mod.ts";
import type { Pairing } from "../rendezvous/mod.ts";
import { isLanAddress, onLinkIpv6Prefixes } from "./punch/mod.ts";
import type { PeerCertificate } from "./cert/mod.ts";
import type { ServerFound } from "./find/mod.ts";
import type { TransportChoice } from "./_choose_transport.ts";
import type { LocalEnd } from "./_local_end.ts";
import { receiverLinkOverTcp } from "./_receiver_link.ts";
import type { Linked, Route } from "./_route.ts";
import { senderLinkOverTcp } from "./_sender_link.ts";

export interface TcpOnlyOptions {
  end: LocalEnd;
  choice: TransportChoice;
  signal?: AbortSignal;
}

/** The link over TCP only (the peer was found through the server): the sender accepts, the receiver dials. */
export function linkOverTcp(route: Route<ServerFound>, options: TcpOnlyOptions): Promise<Linked> {
  const side = options.end.side;
  return side.role === "sender"
    ? senderOverTcp(route, { ...options, certificate: side.certificate })
    : receiverOverTcp(route, options);
}

async function senderOverTcp(
  route: Route<ServerFound>,
  options: TcpOnlyOptions & { certificate: PeerCertificate },
): Promise<Linked> {
  const { found, plan } = route;
  const { end } = options;
  const ips = plan.direct ? privateTargets(found).map((target) => target.hostname) : [];
  const won = await senderLinkOverTcp(ips, {
    choice: options.choice,
    certificate: options.certificate,
    listener: end.listener,
    admit: (ips) => end.admit(ips),
    tcpRelay: route.tcpRelay,
    firstStreams: end.firstStreams,
    signal: options.signal,
  });
  // A LAN TLS link only comes from an address the listener admitted.
  const remote = won.kind === "relay-tls" ? won.relay : end.firstAdmitted;
  if (!remote) throw new Error("The LAN TLS link came from no admitted address");
  return {
    won,
    channelBinding: options.certificate.fingerprint,
    facts: {
      path: won.kind === "lan-tls" ? "lan" : "relay",
      transport: won.link.transport,
      remote,
      rttMs: NaN,
      candidate: won.kind === "lan-tls" ? "private" : "relay",
      chosenBy: "peer",
      nat: found.nat,
      triedDirect: plan.direct,
    },
  };
}

async function receiverOverTcp(
  route: Route<ServerFound>,
  options: TcpOnlyOptions,
): Promise<Linked> {
  const { found, plan } = route;
  const fingerprint = found.peer.fingerprint;
  if (!fingerprint) {
    throw new ProtocolError(
      "The sender announced no certificate fingerprint: it cannot be reached over TCP",
    );
  }
  const targets = plan.direct ? privateTargets(found) : [];
  if (targets.length === 0 && !route.tcpRelay) {
    throw new NoPathError(
      "No TCP path to the sender: it announced no private address and the server offers no TCP relay",
    );
  }
  const { won, remote, rttMs } = await receiverLinkOverTcp(targets, fingerprint, {
    choice: options.choice,
    tcpRelay: route.tcpRelay,
    signal: options.signal,
  });
  return {
    won,
    channelBinding: fingerprint,
    facts: {
      path: won.kind === "lan-tls" ? "lan" : "relay",
      transport: won.link.transport,
      remote,
      rttMs,
      candidate: won.kind === "lan-tls" ? "private" : "relay",
      chosenBy: "self",
      nat: found.nat,
      triedDirect: plan.direct,
    },
  };
}

/**
 * The peer's private addresses on TCP: its candidates (its punch port, where
 * a sender listens for TLS), and the address the server saw when private
 * (peers beside the server, on one LAN).
 */
export function privateTargets(
  pairing: Pairing,
  onLink: readonly string[] = onLinkIpv6Prefixes(Deno.networkInterfaces()),
): Deno.NetAddr[] {
  const { candidates, observed } = pairing.peer;
  const port = candidates[0]?.port ??
    (pairing.transport.peer === "udp" ? observed.port : undefined);
  const all = [
    ...candidates,
    ...(port !== undefined ? [{ ...observed, port }] : []),
  ].filter((addr) => isLanAddress(addr.hostname, onLink));
  const seen = new Set<string>();
  return all.filter((addr) => {
    const key = `${addr.hostname}:${addr.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  }).map((addr) => ({ transport: "tcp", hostname: addr.hostname, port: addr.port }));
}
