/**
 * The lab's address plan: which prefix each link and home gets, and the address fields a `Lab`
 * exposes. Documentation prefixes only (RFC 5737, RFC 3849), so nothing here can leak out.
 * The plan with its reasons is in tests/lab/README.md.
 */
import type { NatKind } from "./_plan.ts";

/**
 * A home host. With `ipv6`, `ip6` is its global IPv6 address (also its public one: no NAT); with
 * `ipv6: "only"` the host has no IPv4, and `ip` and `publicIp` are `ip6` too.
 */
export interface LabHost {
  ns: string;
  ip: string;
  publicIp: string;
  ip6?: string;
}

/** A home router; with `ipv6`, `lanIp6` and `publicIp6` (with `"only"`, `lanIp` is `lanIp6`). */
export interface LabRouter {
  ns: string;
  lanIp: string;
  publicIp: string;
  nat: NatKind;
  lanIp6?: string;
  publicIp6?: string;
}

/** Addresses that tests and the CLI need; the `*6` fields exist only with `ipv6`. */
export interface LabAddresses {
  internet: { ns: string; ip: string; ip6?: string };
  rendezvous: { ns: string; ip: string; altIp: string; ip6?: string; altIp6?: string };
  hostA: LabHost;
  hostA2: LabHost;
  hostB: LabHost;
  routerA: LabRouter;
  routerB: LabRouter;
}

/** First three octets of both homes' LAN behind NAT (real homes share it too). */
export const PRIVATE_LAN = "192.168.1";

/** One home's addresses on its WAN link and LAN. */
export interface HomeAddressing {
  /** Subnet of the router's WAN link to the internet router. */
  wanNet: string;
  internetWanIp: string;
  routerWanIp: string;
  /** First three octets and the offset of the LAN used when the home has public addresses. */
  publicLan: { prefix: string; base: number; cidr: string };
  /** IPv6: the WAN link's /64 (internet router ::1, home router ::2) and the LAN's /64. */
  wan6: string;
  lan6: string;
}

export const HOME_A: HomeAddressing = {
  wanNet: "198.51.100.0/28",
  internetWanIp: "198.51.100.1",
  routerWanIp: "198.51.100.2",
  publicLan: { prefix: "198.51.100", base: 64, cidr: "198.51.100.64/27" },
  wan6: "2001:db8:0:1::",
  lan6: "2001:db8:a::",
};
export const HOME_B: HomeAddressing = {
  wanNet: "198.51.100.16/28",
  internetWanIp: "198.51.100.17",
  routerWanIp: "198.51.100.18",
  publicLan: { prefix: "198.51.100", base: 96, cidr: "198.51.100.96/27" },
  wan6: "2001:db8:0:2::",
  lan6: "2001:db8:b::",
};
/** The rendezvous host's link: the internet router, the server and its second address. */
export const RENDEZVOUS_NET = {
  internetIp: "203.0.113.1",
  ip: "203.0.113.10",
  altIp: "203.0.113.11",
  internetIp6: "2001:db8::1",
  ip6: "2001:db8::10",
  altIp6: "2001:db8::11",
};
