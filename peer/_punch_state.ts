import { decodeProbe, encodeProbe, type Probe } from "./probe.ts";
import { formatAddr, isPrivateIpv4, sameAddr } from "./addresses.ts";

/** Where a candidate address came from. */
export type CandidateSource = "server" | "private" | "peer-reflexive";

export interface Candidate {
  addr: Deno.NetAddr;
  source: CandidateSource;
}

export type PathKind = "lan" | "direct";

export interface PunchResult {
  remote: Deno.NetAddr;
  path: PathKind;
  rttMs: number;
  /** One line a person can read: why this path. */
  reason: string;
  /** Receiver only: the sender's certificate (DER) from `chosen-ack`. */
  peerCertificate?: Uint8Array;
}

export interface Outgoing {
  data: Uint8Array;
  to: Deno.NetAddr;
}

export interface PunchStateOptions {
  role: "sender" | "receiver";
  token: Uint8Array;
  selfId: Uint8Array;
  peerId: Uint8Array;
  candidates: Candidate[];
  /** Sender only: its certificate, DER, answered in `chosen-ack`. */
  certificate?: Uint8Array;
  /** How long the receiver waits for a LAN answer after a public one. */
  lanGraceMs?: number;
  /** How long the sender keeps answering after it was chosen. */
  lingerMs?: number;
}

const PROBE_INTERVAL_MS = 100;
const SLOW_PROBE_INTERVAL_MS = 250;
const FAST_PROBING_MS = 3000;
const MAX_CANDIDATES = 32;

/**
 * The punch protocol of peer/PROTOCOL.md as a pure state machine: feed it
 * datagrams and clock ticks, send what it returns, read `result` when set.
 */
export class PunchState {
  readonly #options: Required<Omit<PunchStateOptions, "certificate">> & {
    certificate?: Uint8Array;
  };
  readonly #candidates: Candidate[];
  readonly #sentAt = new Map<number, number>();
  readonly #answered: Array<{ candidate: Candidate; rttMs: number }> = [];
  #nonce = 1;
  #startedAt: number | undefined;
  #lastProbeAt = -Infinity;
  #lanDeadline: number | undefined;
  #chosen: { candidate: Candidate; rttMs: number; reason: string } | undefined;
  #lastChosenAt = -Infinity;
  #lingerUntil: number | undefined;
  #result: PunchResult | undefined;

  constructor(options: PunchStateOptions) {
    this.#options = { lanGraceMs: 300, lingerMs: 250, ...options };
    this.#candidates = [];
    for (const candidate of options.candidates) this.#addCandidate(candidate);
  }

  get result(): PunchResult | undefined {
    return this.#result;
  }

  get candidates(): readonly Candidate[] {
    return this.#candidates;
  }

  /** Candidates that answered, in order. */
  get answered(): ReadonlyArray<{ candidate: Candidate; rttMs: number }> {
    return this.#answered;
  }

  tick(now: number): Outgoing[] {
    this.#startedAt ??= now;
    if (this.#result) return [];
    if (this.#lingerUntil !== undefined) {
      if (now >= this.#lingerUntil) this.#finish(this.#chosen!);
      return [];
    }
    if (this.#lanDeadline !== undefined && now >= this.#lanDeadline && !this.#chosen) {
      const first = this.#answered[0];
      this.#choose(
        first,
        `public address ${formatAddr(first.candidate.addr)} answered in ${
          Math.round(first.rttMs)
        } ms; ` +
          `no private address answered within ${this.#options.lanGraceMs} ms`,
      );
    }
    const out: Outgoing[] = [];
    if (
      this.#chosen && this.#options.role === "receiver" &&
      now - this.#lastChosenAt >= PROBE_INTERVAL_MS
    ) {
      this.#lastChosenAt = now;
      out.push({ data: this.#encode("chosen", this.#nonce++), to: this.#chosen.candidate.addr });
    }
    const interval = now - this.#startedAt < FAST_PROBING_MS
      ? PROBE_INTERVAL_MS
      : SLOW_PROBE_INTERVAL_MS;
    if (!this.#chosen && now - this.#lastProbeAt >= interval) {
      this.#lastProbeAt = now;
      for (const candidate of this.#candidates) {
        const nonce = this.#nonce++;
        this.#sentAt.set(nonce, now);
        out.push({ data: this.#encode("probe", nonce), to: candidate.addr });
      }
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
    switch (probe.type) {
      case "probe":
        this.#addCandidate({ addr: from, source: "peer-reflexive" });
        return [{ data: this.#encode("ack", probe.nonce), to: from }];
      case "ack":
        this.#onAck(probe, from, now);
        return [];
      case "chosen":
        return this.#onChosen(probe, from, now);
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
    const tried = this.#candidates.map((c) => `${formatAddr(c.addr)} (${c.source})`).join(", ");
    const notes: string[] = [];
    const reflexive = this.#candidates.filter((c) => c.source === "peer-reflexive");
    if (reflexive.length > 0) {
      notes.push(
        "the peer's NAT used other ports toward us than toward the server (endpoint-dependent, 'symmetric')",
      );
    }
    if (
      observedSelf && localPort !== undefined && observedSelf.port !== localPort &&
      !isPrivateIpv4(observedSelf.hostname)
    ) {
      notes.push(
        `our NAT mapped local port ${localPort} to ${observedSelf.port} (it rewrites ports; possibly symmetric)`,
      );
    }
    return `tried ${tried}; none answered both ways` +
      (notes.length ? `; ${notes.join("; ")}` : "");
  }

  #onAck(probe: Probe, from: Deno.NetAddr, now: number): void {
    const sentAt = this.#sentAt.get(probe.nonce);
    const candidate = this.#candidates.find((c) => sameAddr(c.addr, from));
    if (
      sentAt === undefined || !candidate || this.#answered.some((a) => a.candidate === candidate)
    ) return;
    const answer = { candidate, rttMs: now - sentAt };
    this.#answered.push(answer);
    if (this.#options.role !== "receiver" || this.#chosen) return;
    if (isPrivateIpv4(from.hostname)) {
      this.#choose(
        answer,
        `private address ${formatAddr(from)} answered in ${Math.round(answer.rttMs)} ms`,
      );
    } else {
      this.#lanDeadline ??= now + this.#options.lanGraceMs;
    }
  }

  #onChosen(probe: Probe, from: Deno.NetAddr, now: number): Outgoing[] {
    if (this.#options.role !== "sender") return [];
    if (!this.#chosen) {
      this.#addCandidate({ addr: from, source: "peer-reflexive" });
      const candidate = this.#candidates.find((c) => sameAddr(c.addr, from))!;
      const rttMs = this.#answered.find((a) => a.candidate === candidate)?.rttMs ?? NaN;
      this.#chosen = { candidate, rttMs, reason: `the receiver chose ${formatAddr(from)}` };
      this.#lingerUntil = now + this.#options.lingerMs;
    }
    if (!sameAddr(from, this.#chosen.candidate.addr)) return [];
    return [{ data: this.#encode("chosen-ack", probe.nonce), to: from }];
  }

  #choose(answer: { candidate: Candidate; rttMs: number }, reason: string): void {
    this.#chosen = { ...answer, reason };
  }

  #finish(
    chosen: { candidate: Candidate; rttMs: number; reason: string },
    peerCertificate?: Uint8Array,
  ): void {
    const remote = chosen.candidate.addr;
    this.#result = {
      remote,
      path: isPrivateIpv4(remote.hostname) ? "lan" : "direct",
      rttMs: chosen.rttMs,
      reason: chosen.reason,
      ...(peerCertificate ? { peerCertificate } : {}),
    };
  }

  #addCandidate(candidate: Candidate): void {
    if (this.#candidates.length >= MAX_CANDIDATES) return;
    if (this.#candidates.some((c) => sameAddr(c.addr, candidate.addr))) return;
    this.#candidates.push({
      addr: { transport: "udp", hostname: candidate.addr.hostname, port: candidate.addr.port },
      source: candidate.source,
    });
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

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
