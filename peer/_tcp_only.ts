/**
 * Setting up the link without punching (a side registered over TCP, or
 * `--relay-only`): LAN TLS to the sender's private addresses, then the TCP
 * relay. Returns the link and the path facts the CLI words.
 */
import { NoPathError, ProtocolError } from "../base/mod.ts";
import type { Pairing } from "../rendezvous/mod.ts";
import { isLanAddress, onLinkIpv6Prefixes, type PunchPlan } from "./punch/mod.ts";
import type { PeerCertificate } from "./cert/mod.ts";
import type { PathFacts } from "./_session.ts";
import type { RelayDial, TlsPeerListener } from "./tls/mod.ts";
import type { TransportChoice } from "./_choose_transport.ts";
import type { Won } from "./_first_link.ts";
import { receiverLinkOverTcp } from "./_receiver_link.ts";
import { senderLinkOverTcp } from "./_sender_link.ts";

export interface TcpOnlyContext {
  pairing: Pairing;
  plan: PunchPlan;
  relayTcp?: Deno.NetAddr;
  relayDial?: RelayDial;
}

export async function senderOverTcp(
  context: TcpOnlyContext,
  options: {
    certificate: PeerCertificate;
    listener?: TlsPeerListener;
    admit(ips: string[]): void;
    firstAdmitted(): Deno.NetAddr | undefined;
    choice: TransportChoice;
    signal?: AbortSignal;
  },
): Promise<{ won: Won; facts: PathFacts }> {
  const { pairing, plan } = context;
  const ips = plan.direct ? privateTargets(pairing).map((target) => target.hostname) : [];
  const won = await senderLinkOverTcp(ips, { ...options, relayDial: context.relayDial });
  const lan = won.kind === "lan-tls";
  return {
    won,
    facts: {
      path: lan ? "lan" : "relay",
      transport: won.link.transport,
      remote: lan ? options.firstAdmitted()! : context.relayTcp!,
      rttMs: NaN,
      candidate: lan ? "private" : "relay",
      chosenBy: "peer",
      nat: pairing.nat,
      triedDirect: plan.direct,
    },
  };
}

export async function receiverOverTcp(
  context: TcpOnlyContext,
  options: { choice: TransportChoice; signal?: AbortSignal },
): Promise<{ won: Won; facts: PathFacts }> {
  const { pairing, plan } = context;
  const fingerprint = pairing.peer.fingerprint;
  if (!fingerprint) {
    throw new ProtocolError(
      "The sender announced no certificate fingerprint: it cannot be reached over TCP",
    );
  }
  const targets = plan.direct ? privateTargets(pairing) : [];
  if (targets.length === 0 && !context.relayDial) {
    throw new NoPathError(
      "No TCP path to the sender: it announced no private address and the server offers no TCP relay",
    );
  }
  const won = await receiverLinkOverTcp(targets, fingerprint, {
    choice: options.choice,
    relayDial: context.relayDial,
    relay: context.relayTcp,
    signal: options.signal,
  });
  return {
    won,
    facts: {
      path: won.kind === "lan-tls" ? "lan" : "relay",
      transport: won.link.transport,
      remote: won.remote,
      rttMs: won.rttMs,
      candidate: won.kind === "lan-tls" ? "private" : "relay",
      chosenBy: "self",
      nat: pairing.nat,
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
