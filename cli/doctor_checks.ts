/**
 * `p2pft doctor`'s verdicts: pure, from the facts doctor_command.ts gathered,
 * so every verdict is tested without a network.
 */
import { formatAddr } from "../base/mod.ts";
import { type NatMapping, planPunch } from "../peer/mod.ts";
import { RENDEZVOUS_ENV } from "./rendezvous_address.ts";

export type Verdict = "ok" | "info" | "warning" | "fail";

/** One line of the report: a verdict, a sentence, and the facts behind it (for --json). */
/** Every check, in the order of the report (with or without a server: scripts see one shape). */
export const CHECK_NAMES = ["addresses", "udp", "tcp", "nat", "ipv6", "local", "path"] as const;

export interface Check {
  check: typeof CHECK_NAMES[number];
  verdict: Verdict;
  summary: string;
  facts: Record<string, string | number | boolean | string[]>;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** What the rendezvous server answered, over each transport. */
export interface ServerFacts {
  /** The rendezvous server as resolved, `host:port` (`[v6]:port`). */
  server: string;
  udp: Outcome<{
    observed: Deno.NetAddr;
    altObserved?: Deno.NetAddr;
    mapping: NatMapping;
    relayPort?: number;
  }>;
  tcp: Outcome<{ observed: Deno.NetAddr }>;
}

export interface DoctorFacts {
  /** Absent when no rendezvous server is configured: the server's checks say so. */
  rendezvous?: ServerFacts;
  /** This host's addresses, loopback left out. */
  addresses: Array<{ name: string; address: string; family: "IPv4" | "IPv6" }>;
  /**
   * Whether a UDP socket binds on `::`, this host's global IPv6 addresses, and
   * the IPv6 candidates p2pft offers a peer (global and unique-local).
   */
  ipv6: { binds: boolean; error?: string; global: string[]; candidates: string[] };
  /** DNS-SD instance names of the p2pft peers that answered a browse; absent with --no-local. */
  local?: Outcome<string[]>;
}

/** The report, one check per line, in the order a person reads it. */
export function doctorChecks(facts: DoctorFacts): Check[] {
  const server = facts.rendezvous;
  return [
    addressesCheck(facts),
    server ? udpCheck(server) : notChecked("udp"),
    server ? tcpCheck(server) : notChecked("tcp"),
    server ? natCheck(server) : notChecked("nat"),
    ipv6Check(facts),
    localCheck(facts),
    server ? pathCheck(server) : localOnlyPath(facts),
  ];
}

/** A server check with no server to ask. */
function notChecked(check: "udp" | "tcp" | "nat"): Check {
  return {
    check,
    verdict: "info",
    summary: `not checked: no rendezvous server is configured (pass --rendezvous HOST:PORT or ` +
      `set ${RENDEZVOUS_ENV})`,
    facts: { checked: false },
  };
}

/** Without a server two peers meet on the local network or not at all. */
function localOnlyPath(facts: DoctorFacts): Check {
  const works = facts.local?.ok === true;
  return {
    check: "path",
    verdict: works ? "info" : "fail",
    summary: works
      ? "local network only: with no rendezvous server, send and receive find each other by " +
        "local discovery, on the same network; across networks they need a server"
      : `none: no rendezvous server is configured and local discovery ${
        facts.local ? "does not work here" : "is off (--no-local)"
      }, so send and receive cannot find each other`,
    facts: { path: works ? "lan" : "none" },
  };
}

function addressesCheck(facts: DoctorFacts): Check {
  const ipv4 = facts.addresses.filter((a) => a.family === "IPv4").map((a) => a.address);
  const ipv6 = facts.ipv6.candidates;
  const all = facts.addresses.map((a) => `${a.address} (${a.name})`);
  return {
    check: "addresses",
    verdict: ipv4.length > 0 ? "ok" : "warning",
    summary: ipv4.length > 0
      ? `this host has ${all.join(", ")}; peers on the same network use ${
        [...ipv4, ...ipv6].join(", ")
      }`
      : ipv6.length > 0
      ? `no IPv4 address besides loopback: peers reach this host over IPv6 only (${
        ipv6.join(", ")
      }), and local discovery, which announces IPv4, finds nothing`
      : `no IPv4 address besides loopback${
        all.length ? ` (only ${all.join(", ")})` : ""
      }: no peer on another host can reach this one, only peers on this host`,
    facts: { addresses: facts.addresses.map((a) => a.address) },
  };
}

function udpCheck(facts: ServerFacts): Check {
  if (!facts.udp.ok) {
    return {
      check: "udp",
      verdict: "fail",
      summary: `the rendezvous server ${facts.server} does not answer over UDP: ${facts.udp.error}`,
      facts: { answers: false, error: facts.udp.error },
    };
  }
  const { observed, relayPort } = facts.udp.value;
  return {
    check: "udp",
    verdict: "ok",
    summary: `the rendezvous server ${facts.server} answers over UDP and sees this host as ${
      formatAddr(observed)
    }${relayPort === undefined ? "; it does not relay" : `; it relays on port ${relayPort}`}`,
    facts: {
      answers: true,
      observed: formatAddr(observed),
      ...(relayPort === undefined ? {} : { relayPort }),
    },
  };
}

function tcpCheck(facts: ServerFacts): Check {
  if (!facts.tcp.ok) {
    return {
      check: "tcp",
      verdict: facts.udp.ok ? "warning" : "fail",
      summary:
        `the rendezvous server ${facts.server} does not answer over TCP: ${facts.tcp.error}` +
        (facts.udp.ok ? " (only needed on networks that block UDP)" : ""),
      facts: { answers: false, error: facts.tcp.error },
    };
  }
  return {
    check: "tcp",
    verdict: "ok",
    summary: `the rendezvous server answers over TCP too (fallback where UDP is blocked), seeing ${
      formatAddr(facts.tcp.value.observed)
    }`,
    facts: { answers: true, observed: formatAddr(facts.tcp.value.observed) },
  };
}

const MAPPING_WORDS: Record<NatMapping, string> = {
  none: "no NAT: the server sees this host's own address",
  "endpoint-independent":
    "endpoint-independent ('cone'): one public port for every destination, so hole punching works",
  "endpoint-dependent":
    "endpoint-dependent ('symmetric'): a new public port for each destination, so plain hole punching fails",
};

function natCheck(facts: ServerFacts): Check {
  if (!facts.udp.ok) {
    return {
      check: "nat",
      verdict: "fail",
      summary: "unknown: the server did not answer over UDP",
      facts: {},
    };
  }
  const { mapping, observed, altObserved } = facts.udp.value;
  const seen = altObserved === undefined
    ? `its main port saw ${
      formatAddr(observed)
    }; its second port did not answer, so this is a guess`
    : `its two ports saw ${formatAddr(observed)} and ${formatAddr(altObserved)}`;
  return {
    check: "nat",
    verdict: mapping === "endpoint-dependent" ? "warning" : "ok",
    summary: `${MAPPING_WORDS[mapping]} (${seen})`,
    facts: {
      mapping,
      observed: formatAddr(observed),
      ...(altObserved === undefined ? {} : { altObserved: formatAddr(altObserved) }),
    },
  };
}

function ipv6Check(facts: DoctorFacts): Check {
  const { binds, error, global, candidates } = facts.ipv6;
  if (!binds) {
    return {
      check: "ipv6",
      verdict: "info",
      summary: `no IPv6: a UDP socket cannot bind on :: (${error}); p2pft connects over IPv4 only`,
      facts: { binds, global, candidates: [] },
    };
  }
  return {
    check: "ipv6",
    verdict: "info",
    summary: candidates.length === 0
      ? "IPv6 sockets bind but there is no global or unique-local IPv6 address; p2pft connects over IPv4 only"
      : `IPv6 works; p2pft offers peers ${candidates.join(", ")} beside IPv4${
        global.length > 0 ? "" : " (unique-local only: this site, not across the internet)"
      }`,
    facts: { binds, global, candidates },
  };
}

function localCheck(facts: DoctorFacts): Check {
  if (!facts.local) {
    return {
      check: "local",
      verdict: "info",
      summary: "not checked: --no-local (send and receive with --no-local do not look either)",
      facts: { checked: false },
    };
  }
  if (!facts.local.ok) {
    return {
      check: "local",
      verdict: "warning",
      summary:
        `local discovery (multicast DNS) does not work here: ${facts.local.error}; peers on the LAN still meet through the server`,
      facts: { works: false, error: facts.local.error },
    };
  }
  const peers = facts.local.value;
  return {
    check: "local",
    verdict: peers.length > 0 ? "ok" : "info",
    summary: peers.length > 0
      ? `local discovery sees ${peers.length} p2pft ${
        peers.length === 1 ? "peer" : "peers"
      } announcing on this network`
      : "local discovery works; no p2pft peer is announcing on this network right now",
    facts: { works: true, peers },
  };
}

function pathCheck(facts: ServerFacts): Check {
  if (!facts.udp.ok && !facts.tcp.ok) {
    return {
      check: "path",
      verdict: "fail",
      summary:
        "none: the rendezvous server answers neither over UDP nor over TCP, so peers cannot meet (peers on one LAN still find each other locally)",
      facts: { path: "none" },
    };
  }
  if (!facts.udp.ok) {
    return {
      check: "path",
      verdict: "warning",
      summary:
        "relay over TCP: UDP to the server is blocked, so no hole can be punched; the TCP relay carries the transfer (still end-to-end encrypted)",
      facts: { path: "relay" },
    };
  }
  const { mapping, relayPort } = facts.udp.value;
  const plan = planPunch({ self: mapping, peer: mapping }, "auto");
  const relay = relayPort === undefined ? " (but this server does not relay)" : "";
  if (plan.relayAfterMs === 0) {
    return {
      check: "path",
      verdict: relayPort === undefined ? "fail" : "warning",
      summary:
        `relay${relay}: two peers behind endpoint-dependent NATs cannot punch to each other; with a peer whose NAT is endpoint-independent, birthday punching may still find a direct path`,
      facts: { path: "relay" },
    };
  }
  return {
    check: "path",
    verdict: "ok",
    summary: `direct: two peers like this one punch a hole to each other (the relay${
      relayPort === undefined ? " is not offered by this server" : " stays a fallback"
    }); on one LAN they use their private addresses`,
    facts: { path: "direct" },
  };
}
