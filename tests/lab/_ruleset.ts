/**
 * nftables rulesets for the lab's routers (pure text), loaded atomically with `nft -f -`: a home
 * router gets `table ip lab` (and with IPv6 `table ip6 lab`), the internet router `table inet lab`.
 */
import type { NatKind } from "./_plan.ts";

/** What a home router does. */
export interface RouterRulesetOptions {
  nat: NatKind;
  hairpin: boolean;
  /** Drop every forwarded UDP packet, both ways (a network that allows only TCP out). */
  blockUdp?: boolean;
  /** Accept every packet addressed to the router itself (its conntrack then holds those flows). */
  openInput?: boolean;
  /** The router's WAN address. */
  publicIp: string;
  /** The LAN behind it, e.g. `192.168.1.0/24`. */
  lanCidr: string;
}

/**
 * A home router: LAN `lan` (a bridge), WAN `wan`.
 * - NAT `endpoint-independent`: `masquerade` (Linux keeps the source port when it is free, so one
 *   socket keeps one public port for every destination).
 * - NAT `symmetric`: `masquerade fully-random` (iptables `--random-fully`): a new random public port
 *   for every new destination.
 * - NAT `none`: the LAN holds public addresses; the router only routes, with no filtering.
 * With NAT, inbound traffic is accepted only when conntrack says ESTABLISHED or RELATED.
 * Hairpin (UDP): the postrouting `learn` chain records, for every UDP packet leaving the WAN, its
 * public source port -> private address:port in the `hairpin` map; LAN packets to the router's
 * public address are DNATed through that map and SNATed to the public address, so the target sees
 * the sender's public address as it would from outside.
 */
export function routerRuleset(options: RouterRulesetOptions): string {
  const udpDrop = options.blockUdp ? ["    meta l4proto udp drop"] : [];
  if (options.nat === "none") return routeOnly("ip", udpDrop);
  const masquerade = options.nat === "symmetric" ? "masquerade fully-random" : "masquerade";
  const lines = [
    "table ip lab {",
    "  chain input {",
    `    type filter hook input priority filter; policy ${options.openInput ? "accept" : "drop"};`,
    '    iifname "lo" accept',
    "    ct state established,related accept",
    '    iifname "lan" meta l4proto icmp accept',
    "  }",
    "  chain forward {",
    "    type filter hook forward priority filter; policy drop;",
    ...udpDrop,
    "    ct state established,related accept",
    '    iifname "lan" accept',
    "  }",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    oifname "wan" ${masquerade}`,
  ];
  if (options.hairpin) {
    lines.push(
      `    oifname "lan" ct status dnat ip saddr ${options.lanCidr} snat ip to ${options.publicIp}`,
      "  }",
      "  map hairpin {",
      "    typeof udp dport : ip daddr . udp dport",
      "    flags dynamic,timeout",
      "    timeout 180s",
      "  }",
      "  chain prerouting {",
      "    type nat hook prerouting priority dstnat; policy accept;",
      `    iifname "lan" ip daddr ${options.publicIp} dnat ip to udp dport map @hairpin`,
      "  }",
      "  chain learn {",
      "    type filter hook postrouting priority srcnat + 10; policy accept;",
      '    oifname "wan" meta l4proto udp update @hairpin ' +
        "{ udp sport : ct original ip saddr . ct original proto-src }",
    );
  }
  lines.push("  }", "}", "");
  return lines.join("\n");
}

/** What a home router does with IPv6, which it routes without NAT. */
export interface Router6RulesetOptions {
  /** Drop unsolicited inbound like a home router; false (NAT kind `none`): route everything. */
  filter: boolean;
  blockUdp?: boolean;
  openInput?: boolean;
}

/** ICMPv6 errors, which RFC 4890 says a firewall must pass (packet-too-big above all). */
const ICMPV6_ERRORS =
  "icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem }";

/**
 * A home router's IPv6 (RFC 6092, "simple security"): no NAT, the forward chain accepts what
 * conntrack knows (ESTABLISHED/RELATED), everything from the LAN and ICMPv6 errors, and drops new
 * flows from the WAN, so the first datagram of a punch is dropped and the peer's reply opens the
 * way as it does through an IPv4 NAT. Input admits neighbour discovery, without which nothing on
 * the link resolves the router's address.
 */
export function router6Ruleset(options: Router6RulesetOptions): string {
  const udpDrop = options.blockUdp ? ["    meta l4proto udp drop"] : [];
  if (!options.filter) return routeOnly("ip6", udpDrop);
  return [
    "table ip6 lab {",
    "  chain input {",
    `    type filter hook input priority filter; policy ${options.openInput ? "accept" : "drop"};`,
    '    iifname "lo" accept',
    "    ct state established,related accept",
    "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept",
    `    ${ICMPV6_ERRORS} accept`,
    '    iifname "lan" meta l4proto ipv6-icmp accept',
    "  }",
    "  chain forward {",
    "    type filter hook forward priority filter; policy drop;",
    ...udpDrop,
    "    ct state established,related accept",
    `    ${ICMPV6_ERRORS} accept`,
    '    iifname "lan" accept',
    "  }",
    "}",
    "",
  ].join("\n");
}

/** The internet router (both families): random loss on each public link, in each direction. */
export function internetRuleset(options: { links: string[]; lossPercent: number }): string {
  if (options.lossPercent <= 0) return "";
  const threshold = Math.round(options.lossPercent * 10_000); // out of 1_000_000
  const set = `{ ${options.links.map((name) => JSON.stringify(name)).join(", ")} }`;
  return [
    "table inet lab {",
    "  chain loss_in {",
    "    type filter hook prerouting priority raw - 10; policy accept;",
    `    iifname ${set} numgen random mod 1000000 < ${threshold} drop`,
    "  }",
    "  chain loss_out {",
    "    type filter hook postrouting priority srcnat + 100; policy accept;",
    `    oifname ${set} numgen random mod 1000000 < ${threshold} drop`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** A router that only routes: forwards everything but what `udpDrop` drops. */
function routeOnly(family: "ip" | "ip6", udpDrop: string[]): string {
  return [
    `table ${family} lab {`,
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    ...udpDrop,
    "  }",
    "}",
    "",
  ].join("\n");
}
