/**
 * The lab's topology as data: namespace names, veth pairs, addresses, routes,
 * nftables rulesets, tc qdiscs and delay lines. Pure: `lab.ts` carries it out.
 * The address plan and the reasons behind it are in tests/lab/README.md.
 */
import {
  HOME_A,
  HOME_B,
  type HomeAddressing,
  type LabAddresses,
  type LabHost,
  type LabRouter,
  PRIVATE_LAN,
  RENDEZVOUS_NET,
} from "./_addresses.ts";
import { internetRuleset, router6Ruleset, routerRuleset } from "./_ruleset.ts";

/** How a home router maps its LAN to its public address. */
export type NatKind = "endpoint-independent" | "symmetric" | "none";

/**
 * IPv6 in the lab: `dual` adds it everywhere beside IPv4; `only` leaves the homes (routers' LANs
 * and hosts) without any IPv4 address or route, while the public net stays dual-stack.
 */
export type Ipv6Mode = "dual" | "only";

/** What the lab looks like; see tests/lab/README.md. */
export interface LabOptions {
  natA: NatKind;
  natB: NatKind;
  /** Routers forward LAN traffic sent to their own public address back into the LAN (UDP). */
  hairpin?: boolean;
  /** Both home routers drop all UDP they would forward (offices, hotels); TCP still passes. */
  blockUdp?: boolean;
  /**
   * Both home routers accept unsolicited packets to their own address (no drop rule on input, as
   * on a plain Linux box doing masquerade); forwarding into the LAN still needs a mapping.
   */
  openInput?: boolean;
  /** IPv6 (documentation prefixes, no NAT, stateful home firewalls); absent: IPv4 only. */
  ipv6?: Ipv6Mode;
  /** Host A and host B get the same private IP (both LANs are 192.168.1.0/24 anyway). */
  samePrivateIp?: boolean;
  /** One-way delay added on each public link (home A, home B, rendezvous), in ms. */
  delayMs?: number;
  /** Percent of packets dropped on each public link, in each direction. */
  lossPercent?: number;
  /** Rate limit (tbf) on each public link, in each direction, in Mbit/s. */
  rateMbit?: number;
  /** With `rateMbit`: how long a packet may wait in the tbf queue before it is dropped (default 100). */
  queueMs?: number;
  signal?: AbortSignal;
}

/** The rendezvous server's host name inside the lab (see `LabPlan.hosts`). */
export const RENDEZVOUS_NAME = "rendezvous.lab";

/** Prefix of every namespace a lab creates; `cleanup.ts` removes by it. */
export const LAB_PREFIX = "p2l-";

/** One end of a veth pair. */
export interface Endpoint {
  ns: string;
  ifname: string;
}

/** A namespace and what to configure inside it. */
export interface NamespacePlan {
  name: string;
  role: string;
  /** `sysctl -w` settings, applied before any interface is created. */
  sysctls: string[];
  /** Lines for `ip -n NAME -batch -`. */
  ip: string[];
  /** Lines for `tc -n NAME -batch -` (may be empty). */
  tc: string[];
  /** Script for `nft -f -` (may be empty). */
  nft: string;
}

/** A userspace delay line between two interfaces of a wire namespace. */
export interface DelayLinePlan {
  ns: string;
  ifA: string;
  ifB: string;
  delayMs: number;
}

/** Everything `createLab` does, in order. */
export interface LabPlan extends LabAddresses {
  id: string;
  namespaces: NamespacePlan[];
  /**
   * The `/etc/hosts` every namespace sees (`ip netns exec` mounts `/etc/netns/NS/hosts` over it):
   * `RENDEZVOUS_NAME` has the server's IPv4 and, with `ipv6`, its IPv6 address (A and AAAA).
   */
  hosts: string;
  veths: [Endpoint, Endpoint][];
  delayLines: DelayLinePlan[];
}

const NAT_KINDS: readonly NatKind[] = ["endpoint-independent", "symmetric", "none"];
const IPV6_MODES: readonly Ipv6Mode[] = ["dual", "only"];
const IFNAME_MAX = 15;

/** Checks options and throws `TypeError`/`RangeError` naming the bad value. */
export function validateOptions(options: LabOptions): void {
  for (const key of ["natA", "natB"] as const) {
    if (!NAT_KINDS.includes(options[key])) {
      throw new TypeError(
        `Cannot create lab: ${key} is ${JSON.stringify(options[key])}, expected one of ${
          NAT_KINDS.join(", ")
        }`,
      );
    }
  }
  if (options.ipv6 !== undefined && !IPV6_MODES.includes(options.ipv6)) {
    throw new TypeError(
      `Cannot create lab: ipv6 is ${JSON.stringify(options.ipv6)}, expected one of ${
        IPV6_MODES.join(", ")
      } or none`,
    );
  }
  checkRange("delayMs", options.delayMs, 0, 10_000);
  checkRange("lossPercent", options.lossPercent, 0, 100);
  checkRange("rateMbit", options.rateMbit, 0.01, 10_000);
  checkRange("queueMs", options.queueMs, 1, 10_000);
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`Cannot create lab: ${name} is ${value}, expected ${min}..${max}`);
  }
}

/** A fresh run id: `<pid>-<4 hex>`, so names from two runs cannot collide. */
export function newLabId(pid: number = Deno.pid): string {
  const rand = crypto.getRandomValues(new Uint8Array(2));
  return `${pid}-${Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Builds the whole plan for `options` under run id `id`. */
export function planLab(id: string, options: LabOptions): LabPlan {
  validateOptions(options);
  const ns = (role: string) => `${LAB_PREFIX}${id}-${role}`;
  const delayMs = options.delayMs ?? 0;
  const ipv6 = options.ipv6;
  const namespaces: NamespacePlan[] = [];
  const veths: [Endpoint, Endpoint][] = [];
  const delayLines: DelayLinePlan[] = [];
  const add = (role: string, withIpv6 = ipv6 !== undefined): NamespacePlan => {
    const plan: NamespacePlan = {
      name: ns(role),
      role,
      sysctls: baseSysctls(withIpv6),
      ip: ["link set dev lo up"],
      tc: [],
      nft: "",
    };
    namespaces.push(plan);
    return plan;
  };
  const shape = (plan: NamespacePlan, ifname: string) => {
    if (options.rateMbit !== undefined) {
      plan.tc.push(tbfLine(ifname, options.rateMbit, options.queueMs ?? 100));
    }
  };
  /** Connects a public link, through a wire namespace running a delay line when delayMs > 0. */
  const publicLink = (inner: Endpoint, outer: Endpoint, wireRole: string) => {
    if (delayMs <= 0) {
      veths.push([inner, outer]);
      return;
    }
    // The wire only moves frames: no IPv6 of its own, so it adds no MLD or NDP noise.
    const wire = add(wireRole, false);
    wire.sysctls.push("net.ipv4.conf.all.forwarding=0");
    wire.ip.push("link set dev wi up", "link set dev wh up");
    veths.push([inner, { ns: wire.name, ifname: "wi" }], [{ ns: wire.name, ifname: "wh" }, outer]);
    delayLines.push({ ns: wire.name, ifA: "wi", ifB: "wh", delayMs });
  };

  const internet = add("inet");
  internet.sysctls.push("net.ipv4.ip_forward=1");
  if (ipv6) internet.sysctls.push("net.ipv6.conf.all.forwarding=1");
  const rendezvous = add("rv");
  const homes = {
    a: buildHome("a", HOME_A, options.natA, 10, true),
    b: buildHome("b", HOME_B, options.natB, options.samePrivateIp ? 10 : 20, false),
  };

  // Rendezvous host: one public link with two addresses.
  internet.ip.push(
    "link set dev to-rv up",
    `address add ${RENDEZVOUS_NET.internetIp}/24 dev to-rv`,
  );
  shape(internet, "to-rv");
  rendezvous.ip.push(
    "link set dev eth0 up",
    `address add ${RENDEZVOUS_NET.ip}/24 dev eth0`,
    `address add ${RENDEZVOUS_NET.altIp}/24 dev eth0`,
    `route add default via ${RENDEZVOUS_NET.internetIp}`,
  );
  if (ipv6) {
    internet.ip.push(`address add ${RENDEZVOUS_NET.internetIp6}/64 dev to-rv nodad`);
    rendezvous.ip.push(
      `address add ${RENDEZVOUS_NET.ip6}/64 dev eth0 nodad`,
      // Deprecated (preferred_lft 0): still bound and answered, but never chosen as a source,
      // so a reply from a socket on "::" comes from ip6, as one on 0.0.0.0 comes from ip.
      `address add ${RENDEZVOUS_NET.altIp6}/64 dev eth0 nodad preferred_lft 0`,
      `route add ::/0 via ${RENDEZVOUS_NET.internetIp6}`,
    );
  }
  shape(rendezvous, "eth0");
  publicLink({ ns: internet.name, ifname: "to-rv" }, { ns: rendezvous.name, ifname: "eth0" }, "wr");
  internet.nft = internetRuleset({
    links: ["to-rv", "to-a", "to-b"],
    lossPercent: options.lossPercent ?? 0,
  });

  function buildHome(
    side: "a" | "b",
    net: HomeAddressing,
    nat: NatKind,
    hostOffset: number,
    withSecondHost: boolean,
  ) {
    const router = add(`r${side}`);
    router.sysctls.push(
      "net.ipv4.ip_forward=1",
      "net.ipv4.conf.all.send_redirects=0",
      "net.ipv4.conf.default.send_redirects=0",
      "net.bridge.bridge-nf-call-iptables=0",
      "net.bridge.bridge-nf-call-ip6tables=0",
    );
    if (ipv6) router.sysctls.push("net.ipv6.conf.all.forwarding=1");
    const v4Lan = ipv6 !== "only";
    const lanPrefix = nat === "none" ? net.publicLan.prefix : PRIVATE_LAN;
    const base = nat === "none" ? net.publicLan.base : 0;
    const lanCidr = nat === "none" ? net.publicLan.cidr : `${PRIVATE_LAN}.0/24`;
    const lanIp = `${lanPrefix}.${base + 1}`;
    const toRouter = `to-${side}`;
    internet.ip.push(
      `link set dev ${toRouter} up`,
      `address add ${net.internetWanIp}/28 dev ${toRouter}`,
      `route add ${net.publicLan.cidr} via ${net.routerWanIp}`,
    );
    shape(internet, toRouter);
    router.ip.push(
      "link set dev wan up",
      `address add ${net.routerWanIp}/28 dev wan`,
      `route add default via ${net.internetWanIp}`,
      "link add name lan type bridge",
      "link set dev lan up",
    );
    if (v4Lan) router.ip.push(`address add ${lanIp}/${nat === "none" ? 27 : 24} dev lan`);
    if (ipv6) {
      internet.ip.push(
        `address add ${net.wan6}1/64 dev ${toRouter} nodad`,
        `route add ${net.lan6}/64 via ${net.wan6}2`,
      );
      router.ip.push(
        `address add ${net.wan6}2/64 dev wan nodad`,
        `route add ::/0 via ${net.wan6}1`,
        `address add ${net.lan6}1/64 dev lan nodad`,
      );
    }
    shape(router, "wan");
    publicLink(
      { ns: internet.name, ifname: toRouter },
      { ns: router.name, ifname: "wan" },
      `w${side}`,
    );

    const hostRoles = withSecondHost ? [`h${side}`, `h${side}2`] : [`h${side}`];
    const hosts = hostRoles.map((role, index): LabHost => {
      const host = add(role);
      const ip = `${lanPrefix}.${base + hostOffset + index}`;
      const port = `h${index + 1}`;
      router.ip.push(`link set dev ${port} master lan`, `link set dev ${port} up`);
      host.ip.push("link set dev eth0 up");
      if (v4Lan) {
        host.ip.push(
          `address add ${ip}/${nat === "none" ? 27 : 24} dev eth0`,
          `route add default via ${lanIp}`,
        );
      }
      veths.push([{ ns: router.name, ifname: port }, { ns: host.name, ifname: "eth0" }]);
      const publicIp = nat === "none" ? ip : net.routerWanIp;
      if (!ipv6) return { ns: host.name, ip, publicIp };
      const ip6 = `${net.lan6}${hostOffset + index}`;
      host.ip.push(`address add ${ip6}/64 dev eth0 nodad`, `route add ::/0 via ${net.lan6}1`);
      return v4Lan
        ? { ns: host.name, ip, publicIp, ip6 }
        : { ns: host.name, ip: ip6, publicIp: ip6, ip6 };
    });
    router.nft = routerRuleset({
      nat,
      hairpin: options.hairpin ?? false,
      blockUdp: options.blockUdp ?? false,
      openInput: options.openInput ?? false,
      publicIp: net.routerWanIp,
      lanCidr,
    });
    if (ipv6) {
      router.nft += router6Ruleset({
        filter: nat !== "none",
        blockUdp: options.blockUdp ?? false,
        openInput: options.openInput ?? false,
      });
    }
    const routerAddresses: LabRouter = { ns: router.name, lanIp, publicIp: net.routerWanIp, nat };
    if (ipv6) {
      routerAddresses.lanIp6 = `${net.lan6}1`;
      routerAddresses.publicIp6 = `${net.wan6}2`;
      if (!v4Lan) routerAddresses.lanIp = routerAddresses.lanIp6;
    }
    return { router: routerAddresses, hosts };
  }

  for (const [a, b] of veths) {
    for (const end of [a, b]) {
      if (end.ifname.length > IFNAME_MAX) {
        throw new RangeError(`Cannot plan lab: interface name ${end.ifname} exceeds 15 chars`);
      }
    }
  }
  return {
    id,
    namespaces,
    veths,
    delayLines,
    hosts: [
      "127.0.0.1 localhost",
      "::1 localhost",
      `${RENDEZVOUS_NET.ip} ${RENDEZVOUS_NAME}`,
      ...(ipv6 ? [`${RENDEZVOUS_NET.ip6} ${RENDEZVOUS_NAME}`] : []),
      "",
    ].join("\n"),
    internet: {
      ns: internet.name,
      ip: RENDEZVOUS_NET.internetIp,
      ...(ipv6 ? { ip6: RENDEZVOUS_NET.internetIp6 } : {}),
    },
    rendezvous: {
      ns: rendezvous.name,
      ip: RENDEZVOUS_NET.ip,
      altIp: RENDEZVOUS_NET.altIp,
      ...(ipv6 ? { ip6: RENDEZVOUS_NET.ip6, altIp6: RENDEZVOUS_NET.altIp6 } : {}),
    },
    hostA: homes.a.hosts[0],
    hostA2: homes.a.hosts[1],
    hostB: homes.b.hosts[0],
    routerA: homes.a.router,
    routerB: homes.b.router,
  };
}

function baseSysctls(ipv6: boolean): string[] {
  const inet6 = ipv6
    ? [
      // Static addresses only: no router advertisements or solicitations, no wait for DAD.
      "net.ipv6.conf.all.disable_ipv6=0",
      "net.ipv6.conf.default.disable_ipv6=0",
      "net.ipv6.conf.all.accept_ra=0",
      "net.ipv6.conf.default.accept_ra=0",
      "net.ipv6.conf.default.accept_dad=0",
      "net.ipv6.conf.default.router_solicitations=0",
    ]
    // Interfaces created later get no IPv6 (no router solicitations, no DAD noise); lo keeps ::1.
    : ["net.ipv6.conf.default.disable_ipv6=1"];
  return [
    ...inet6,
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
  ];
}

/** A tbf qdisc for `rateMbit`: ~4 ms of burst and at most `queueMs` of queue. */
export function tbfLine(ifname: string, rateMbit: number, queueMs: number): string {
  const bytesPerSecond = (rateMbit * 1_000_000) / 8;
  const burst = Math.max(16_000, Math.round(bytesPerSecond * 0.004));
  return `qdisc replace dev ${ifname} root tbf rate ${rateMbit}mbit burst ${burst} latency ${queueMs}ms`;
}
