import { equalBytes, formatAddr, normalizeIp, sameAddr } from "../../base/mod.ts";
import { decodeProbe, encodeProbe, type Probe } from "./probe.ts";
import { isIpv6, isLanAddress } from "./addresses.ts";

/** Where a candidate address came from. */
export type CandidateSource = "server" | "private" | "peer-reflexive" | "birthday" | "relay";

export interface Candidate {
  addr: Deno.NetAddr;
  source: CandidateSource;
}

export type PathKind = "lan" | "direct" | "relay";

export interface PunchResult {
  remote: Deno.NetAddr;
  path: PathKind;
  rttMs: number;
  /** Where the winning address came from (the sender learns it from the receiver's `chosen`). */
  candidate: CandidateSource;
  /** Who picked the path: the receiver ranks the answers, the sender follows its `chosen`. */
  chosenBy: "self" | "peer";
  /** Receiver only: the sender's certificate (DER) from `chosen-ack`. */
  peerCertificate?: Uint8Array;
}

export interface Outgoing {
  data: Uint8Array;
  to: Deno.NetAddr;
  /** Send with a small TTL: it opens our NAT mapping and dies before the peer's router. */
  lowTtl?: boolean;
}

export interface PunchStateOptions {
  role: "sender" | "receiver";
  token: Uint8Array;
  selfId: Uint8Array;
  peerId: Uint8Array;
  candidates: Candidate[];
  /** Sender only: its certificate, DER, answered in `chosen-ack`. */
  certificate?: Uint8Array;
  /** How long the receiver waits for a better path after the first answer (default 300 ms). */
  lanGraceMs?: number;
  /**
   * For this long after the first tick, public candidates get low-TTL probes only, so our
   * router maps our port toward the peer before the peer's probes reach it (default 0).
   */
  openMappingMs?: number;
  /** Pause between probe rounds (default 100 ms for 3 s, then 250 ms). */
  probeIntervalMs?: number;
  /** Birthday punching, easy side: probe this many random ports of `spray.hostname` a round. */
  spray?: { hostname: string; perRound: number };
  /** The relay's address: datagrams from it are classified as the relay path. */
  relay?: Deno.NetAddr;
  /**
   * `--relay-only`: the relay is the only path. Datagrams from anywhere else are dropped, so the
   * peer's probes (a peer that tries direct paths) do not make a direct path of their own.
   */
  relayOnly?: boolean;
  /** Our interfaces' IPv6 prefixes: a peer inside one is on our LAN (`isLanAddress`). */
  onLinkPrefixes?: readonly string[];
}

const FAST_PROBE_INTERVAL_MS = 100;
const SLOW_PROBE_INTERVAL_MS = 250;
/** A lost chosen-ack cannot be answered again (see #onChosen): it is sent this many times. */
const CHOSEN_ACK_COPIES = 3;
const FAST_PROBING_MS = 3000;
const MAX_CANDIDATES = 32;
const LOWEST_SPRAY_PORT = 1024;
/** Better paths rank lower: a LAN address, then a public one, then the relay. */
const RANK = { lan: 0, direct: 1, relay: 2 } as const;
/**
 * A direct IPv6 path that answers at most this long after the first direct
 * answer wins over an IPv4 one (no NAT whose mapping can expire on it); a
 * later one does not, as it is slower (peer/PROTOCOL.md, "Candidates and path choice").
 */
export const IPV6_PREFERENCE_MS = 25;

/** A candidate that answered: its probe's round trip, and when the ack arrived. */
type Answer = { candidate: Candidate; rttMs: number; at: number };

/**
 * The punch protocol of peer/PROTOCOL.md as a pure state machine: feed it
 * datagrams and clock ticks, send what it returns, read `result` when set.
 */
export class PunchState {
  readonly #options: PunchStateOptions;
  readonly #candidates: Candidate[] = [];
  readonly #sentAt = new Map<number, number>();
  readonly #sprayed = new Set<number>();
  readonly #answered: Answer[] = [];
  /** Candidates whose probe we acked: the peer has a round trip on that path. */
  readonly #ackedProbeOf = new Set<Candidate>();
  #nonce = 1;
  #startedAt: number | undefined;
  #lastProbeAt = -Infinity;
  #decideAt: number | undefined;
  #chosen: (Answer & { chosenBy: "self" | "peer" }) | undefined;
  #lastChosenAt = -Infinity;
  #result: PunchResult | undefined;

  constructor(options: PunchStateOptions) {
    this.#options = options;
    for (const candidate of options.candidates) this.#addCandidate(candidate);
  }

  get result(): PunchResult | undefined {
    return this.#result;
  }

  /**
   * The path once chosen, before `result` (the sender lingers to keep
   * answering `chosen`): a TLS link can use it while the socket still answers.
   */
  get chosen(): PunchResult | undefined {
    if (this.#result) return this.#result;
    if (!this.#chosen) return undefined;
    const { candidate, rttMs, chosenBy } = this.#chosen;
    return {
      remote: candidate.addr,
      path: this.#pathOf(candidate),
      rttMs,
      candidate: candidate.source,
      chosenBy,
    };
  }

  get candidates(): readonly Candidate[] {
    return this.#candidates;
  }

  /** Candidates that answered, in order. */
  get answered(): readonly Answer[] {
    return this.#answered;
  }

  /** How many random ports were probed (birthday punching). */
  get sprayed(): number {
    return this.#sprayed.size;
  }

  /** Starts probing the relay (once both peers said hello to it). */
  addRelayCandidate(): void {
    if (this.#options.relay) this.#addCandidate({ addr: this.#options.relay, source: "relay" });
  }

  tick(now: number): Outgoing[] {
    this.#startedAt ??= now;
    if (this.#result) return [];
    if (this.#decideAt !== undefined && now >= this.#decideAt && !this.#chosen) this.#chooseBest();
    const out: Outgoing[] = [];
    if (this.#chosen && this.#options.role === "receiver") return this.#repeatChosen(now);
    if (this.#chosen || now - this.#lastProbeAt < this.#probeInterval(now)) return out;
    this.#lastProbeAt = now;
    const opening = now - this.#startedAt! < (this.#options.openMappingMs ?? 0);
    for (const candidate of this.#candidates) {
      const probe = this.#probe(candidate.addr, now);
      out.push(opening && this.#opensMapping(candidate) ? { ...probe, lowTtl: true } : probe);
    }
    const spray = this.#options.spray;
    for (let index = 0; spray && index < spray.perRound; index++) {
      const port = LOWEST_SPRAY_PORT + Math.floor(Math.random() * (65536 - LOWEST_SPRAY_PORT));
      const probe = this.#probe({ transport: "udp", hostname: spray.hostname, port }, now);
      this.#sprayed.add(this.#nonce - 1);
      out.push(probe);
    }
    return out;
  }

  receive(data: Uint8Array, from: Deno.NetAddr, now: number): Outgoing[] {
    if (this.#result) return [];
    let probe: Probe;
    try {
      probe = decodeProbe(data);
    } catch {
      return []; // Stray or malformed traffic is ignored.
    }
    if (
      !equalBytes(probe.token, this.#options.token) || !equalBytes(probe.from, this.#options.peerId)
    ) {
      return []; // Another pairing's traffic, or our own echo.
    }
    const relay = this.#options.relay;
    if (this.#options.relayOnly && !(relay && sameAddr(from, relay))) return [];
    switch (probe.type) {
      case "probe":
        return this.#onProbe(probe, from, now);
      case "ack":
        return this.#onAck(probe, from, now);
      case "chosen":
        return this.#onChosen(probe, from);
      case "chosen-ack":
        if (
          this.#options.role === "receiver" && this.#chosen &&
          sameAddr(from, this.#chosen.candidate.addr)
        ) {
          this.#finish(this.#chosen, probe.certificate);
        }
        return [];
    }
  }

  /** Why punching failed, for the error a person reads. */
  describeFailure(observedSelf?: Deno.NetAddr, localPort?: number): string {
    const listed = this.#candidates.map((c) => `${formatAddr(c.addr)} (${c.source})`).join(", ");
    const sprayed = this.#sprayed.size > 0 ? ` and ${this.#sprayed.size} random ports` : "";
    const notes: string[] = [];
    if (this.#candidates.some((c) => c.source === "peer-reflexive")) {
      notes.push(
        "the peer's NAT used other ports toward us than toward the server (endpoint-dependent, 'symmetric')",
      );
    }
    if (
      observedSelf && localPort !== undefined && observedSelf.port !== localPort &&
      !isLanAddress(observedSelf.hostname)
    ) {
      notes.push(
        `our NAT mapped local port ${localPort} to ${observedSelf.port} (it rewrites ports)`,
      );
    }
    if (this.#options.relayOnly && !listed) {
      return "this side uses only the relay (--relay-only) and the peer never came to it (it may not allow the relay: --no-relay)";
    }
    return `tried ${listed || "no address"}${sprayed}; none answered both ways` +
      (notes.length ? `; ${notes.join("; ")}` : "");
  }

  /** `chosen` to the chosen path, at most every FAST_PROBE_INTERVAL_MS until its ack. */
  #repeatChosen(now: number): Outgoing[] {
    if (now - this.#lastChosenAt < FAST_PROBE_INTERVAL_MS) return [];
    this.#lastChosenAt = now;
    return [{ data: this.#encode("chosen", this.#nonce++), to: this.#chosen!.candidate.addr }];
  }

  #probeInterval(now: number): number {
    if (this.#options.probeIntervalMs !== undefined) return this.#options.probeIntervalMs;
    return now - this.#startedAt! < FAST_PROBING_MS
      ? FAST_PROBE_INTERVAL_MS
      : SLOW_PROBE_INTERVAL_MS;
  }

  #probe(to: Deno.NetAddr, now: number): Outgoing {
    const nonce = this.#nonce++;
    this.#sentAt.set(nonce, now);
    return { data: this.#encode("probe", nonce), to };
  }

  #onProbe(probe: Probe, from: Deno.NetAddr, now: number): Outgoing[] {
    const candidate = this.#addCandidate({ addr: from, source: "peer-reflexive" });
    if (candidate) this.#ackedProbeOf.add(candidate);
    const out = [{ data: this.#encode("ack", probe.nonce), to: from }];
    // A triggered check: the path just proved it lets the peer in, so ask back at once.
    if (candidate && !this.#chosen && !this.#answered.some((a) => a.candidate === candidate)) {
      out.push(this.#probe(from, now));
    }
    return out;
  }

  /**
   * Records the answer to one of our probes. A receiver that now chose a LAN path tells the
   * sender at once when it already acked a probe of the sender's from there: that ack, ahead of
   * this `chosen` on the same path, gives the sender its round trip; otherwise the next tick
   * tells it, after the sender's own probe was answered (a `chosen` first would leave it none).
   */
  #onAck(probe: Probe, from: Deno.NetAddr, now: number): Outgoing[] {
    const sentAt = this.#sentAt.get(probe.nonce);
    if (sentAt === undefined) return [];
    const candidate =
      this.#sprayed.has(probe.nonce) && from.hostname === this.#options.spray?.hostname
        ? this.#addCandidate({ addr: from, source: "birthday" })
        : this.#candidates.find((c) => sameAddr(c.addr, from));
    if (!candidate || this.#answered.some((a) => a.candidate === candidate)) return [];
    this.#answered.push({ candidate, rttMs: now - sentAt, at: now });
    if (this.#options.role !== "receiver" || this.#chosen) return [];
    if (this.#pathOf(candidate) !== "lan") {
      this.#decideAt ??= now + Math.max(this.#options.lanGraceMs ?? 300, IPV6_PREFERENCE_MS);
      return [];
    }
    this.#chooseBest();
    return this.#ackedProbeOf.has(this.#chosen!.candidate) ? this.#repeatChosen(now) : [];
  }

  /**
   * The sender answers the first `chosen` and is done: its port must carry
   * QUIC before the receiver's first QUIC packet arrives (one that hits the
   * punch socket is lost, and quinn resends it only about a second later). As
   * no later `chosen` can be answered, the answer goes out CHOSEN_ACK_COPIES
   * times.
   */
  #onChosen(probe: Probe, from: Deno.NetAddr): Outgoing[] {
    if (this.#options.role !== "sender") return [];
    const candidate = this.#addCandidate({ addr: from, source: "peer-reflexive" })!;
    const answered = this.#answered.find((a) => a.candidate === candidate);
    this.#chosen = {
      candidate,
      rttMs: answered?.rttMs ?? NaN,
      at: answered?.at ?? NaN,
      chosenBy: "peer",
    };
    this.#finish(this.#chosen);
    const answer = { data: this.#encode("chosen-ack", probe.nonce), to: from };
    return Array.from({ length: CHOSEN_ACK_COPIES }, () => answer);
  }

  /**
   * The best rank that answered, first come first served, except that among
   * direct paths an IPv6 one within `IPV6_PREFERENCE_MS` of the first wins.
   */
  #chooseBest(): void {
    const rank = (answer: Answer) => RANK[this.#pathOf(answer.candidate)];
    const best = Math.min(...this.#answered.map(rank));
    const tier = this.#answered.filter((answer) => rank(answer) === best);
    const ipv6 = best === RANK.direct
      ? tier.find((answer) =>
        isIpv6(answer.candidate.addr.hostname) && answer.at - tier[0].at <= IPV6_PREFERENCE_MS
      )
      : undefined;
    this.#chosen = { ...(ipv6 ?? tier[0]), chosenBy: "self" };
  }

  /**
   * Public IPv4 addresses the server told us: our first packets to them should
   * not reach them (port stealing is a NAT's doing; IPv6 has none).
   */
  #opensMapping(candidate: Candidate): boolean {
    const ip = candidate.addr.hostname;
    return candidate.source === "server" && !isIpv6(ip) && !isLanAddress(ip);
  }

  #pathOf(candidate: Candidate): PathKind {
    if (candidate.source === "relay") return "relay";
    return isLanAddress(candidate.addr.hostname, this.#options.onLinkPrefixes) ? "lan" : "direct";
  }

  #finish(chosen: Answer & { chosenBy: "self" | "peer" }, peerCertificate?: Uint8Array): void {
    this.#result = {
      remote: chosen.candidate.addr,
      path: this.#pathOf(chosen.candidate),
      rttMs: chosen.rttMs,
      candidate: chosen.candidate.source,
      chosenBy: chosen.chosenBy,
      ...(peerCertificate ? { peerCertificate } : {}),
    };
  }

  /** Adds a candidate (or finds the known one with that address). */
  #addCandidate(candidate: Candidate): Candidate | undefined {
    const known = this.#candidates.find((c) => sameAddr(c.addr, candidate.addr));
    if (known) return known;
    if (this.#candidates.length >= MAX_CANDIDATES) return undefined;
    const relay = this.#options.relay;
    const added: Candidate = {
      addr: {
        transport: "udp",
        hostname: normalizeIp(candidate.addr.hostname),
        port: candidate.addr.port,
      },
      source: relay && sameAddr(relay, candidate.addr) ? "relay" : candidate.source,
    };
    this.#candidates.push(added);
    return added;
  }

  #encode(type: Probe["type"], nonce: number): Uint8Array {
    return encodeProbe({
      type,
      token: this.#options.token,
      from: this.#options.selfId,
      nonce,
      ...(type === "chosen-ack" ? { certificate: this.#options.certificate } : {}),
    });
  }
}
