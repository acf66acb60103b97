/** How two peers try to connect, given what the rendezvous server saw of their NATs. */
import type { NatMapping } from "../../rendezvous/mod.ts";

export type { NatMapping };
export type RelayMode = "auto" | "never" | "only";

export interface PunchPlan {
  /** Probe the peer's direct candidates at all (not with `--relay-only`). */
  direct: boolean;
  /** Birthday punching: we are the easy side (spray random ports) or the hard side (many sockets). */
  birthday?: "spray" | "sockets";
  /** When to fall back to the relay, if at all. */
  relayAfterMs?: number;
  /** One line on the NATs, for messages. */
  note: string;
}

/**
 * With both NATs endpoint-dependent but both peers on global IPv6: how long
 * the IPv6 candidates are probed alone before the relay is asked. IPv6 has no
 * NAT; a stateful home firewall opens for the reply to our own probe, so both
 * sides probing each other gets through within a few probe rounds.
 */
export const IPV6_BEFORE_RELAY_MS = 2_000;

/** Extra sockets the endpoint-dependent side opens, and random ports the other side probes a second. */
export const BIRTHDAY_SOCKETS = 256;
export const BIRTHDAY_PROBES_PER_SECOND = 200;

/** What the plan depends on: both NAT mappings, and whether both peers offer global IPv6. */
export interface PunchFacts {
  self: NatMapping;
  peer: NatMapping;
  /** Both peers have a global IPv6 address among their candidates (IPv6 has no NAT). */
  ipv6?: boolean;
}

/**
 * Plain punching works unless a side is endpoint-dependent ("symmetric"). With
 * exactly one such side, birthday punching finds a pair of ports; with two,
 * only the relay connects over IPv4, so it starts at once unless both peers
 * have global IPv6, which is probed first.
 */
export function planPunch(nat: PunchFacts, relay: RelayMode): PunchPlan {
  const note = `NAT mapping: ours ${nat.self}, the peer's ${nat.peer}`;
  if (relay === "only") return { direct: false, relayAfterMs: 0, note };
  const selfHard = nat.self === "endpoint-dependent";
  const peerHard = nat.peer === "endpoint-dependent";
  const relayAfter = (ms: number) => relay === "never" ? undefined : ms;
  if (selfHard && peerHard) {
    const why = `${note}; both endpoint-dependent ('symmetric'), so no direct path exists`;
    return nat.ipv6
      ? {
        direct: true,
        relayAfterMs: relayAfter(IPV6_BEFORE_RELAY_MS),
        note: `${why} over IPv4; both peers have global IPv6, which is tried first`,
      }
      : { direct: true, relayAfterMs: relayAfter(0), note: `${why} across the internet` };
  }
  if (selfHard && nat.peer === "endpoint-independent") {
    return { direct: true, birthday: "sockets", relayAfterMs: relayAfter(10_000), note };
  }
  if (peerHard && nat.self === "endpoint-independent") {
    return { direct: true, birthday: "spray", relayAfterMs: relayAfter(10_000), note };
  }
  return { direct: true, relayAfterMs: relayAfter(5_000), note };
}
