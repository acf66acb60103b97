import { lookup } from "node:dns/promises";
import { NoPathError, P2pftError, ProtocolError } from "../errors.ts";
import { isRendezvousDatagram, type Pairing, register, relayHello } from "../rendezvous/mod.ts";
import { runPakeHandshake } from "../pake/mod.ts";
import type { ByteStream } from "../transfer/mod.ts";
import { formatAddr, localCandidates } from "./addresses.ts";
import { certificateFingerprint, certificatePem, createPeerCertificate } from "./certificate.ts";
import { type TransferCode } from "./code.ts";
import { DatagramMux } from "./datagram_mux.ts";
import { bindPunchSockets } from "./_punch_socket.ts";
import { isProbeDatagram } from "./probe.ts";
import { type Candidate, punch, type PunchOutcome } from "./punch.ts";
import { acceptPeer, dialPeer, type QuicLink } from "./quic.ts";
import {
  BIRTHDAY_PROBES_PER_SECOND,
  BIRTHDAY_SOCKETS,
  type NatMapping,
  planPunch,
  type RelayMode,
} from "./strategy.ts";

/**
 * How long public candidates get only low-TTL probes (peer/PROTOCOL.md, "Port stealing"): it
 * must cover the gap between the two peers learning of each other, up to one register poll.
 */
const OPEN_MAPPING_MS = 400;

/** How long a failing side waits to learn whether the peer failed first (and why). */
const PEER_FAILURE_GRACE_MS = 150;

/** An authenticated connection to the peer, ready for the transfer. */
export interface PeerSession extends AsyncDisposable {
  path: PunchOutcome["path"];
  remote: Deno.NetAddr;
  rttMs: number;
  /** Why this path was chosen, for people. */
  reason: string;
  openStream(): Promise<ByteStream>;
  acceptStream(): Promise<ByteStream>;
  /**
   * Ends the session after `error`: tells the peer why, and returns the error
   * to report (the peer's own reason when it stopped first, e.g. Ctrl-C).
   */
  fail(error: unknown): Promise<unknown>;
}

export interface ConnectOptions {
  role: "sender" | "receiver";
  /**
   * The rendezvous server, "host:port" already split; or several instances
   * sharing rooms, tried in turn (with every IPv4 address each name resolves to).
   */
  rendezvous: { hostname: string; port: number } | { hostname: string; port: number }[];
  /** Receiver: the code it was given. Sender: words to use, and a nameplate to ask for if any. */
  code: { nameplate?: string; words: string };
  /** Sender: called once with the full code once the server gave us a room. */
  onCode?: (code: TransferCode) => void;
  /** Called when the rendezvous server paired us with the peer. */
  onPaired?: (pairing: Pairing) => void;
  /** Called once our NAT's mapping behaviour is known. */
  onNat?: (mapping: NatMapping) => void;
  /** Whether to fall back to (or only use) the server's relay; default "auto". */
  relay?: RelayMode;
  punchTimeoutMs?: number;
  serverTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Pairs through the rendezvous server, punches a UDP path, opens QUIC on the
 * punched port and proves with SPAKE2 that the peer knows the same code.
 */
export async function connectPeer(options: ConnectOptions): Promise<PeerSession> {
  const [server, ...fallbacks] = await resolveServers(options.rendezvous);
  const certificate = options.role === "sender" ? await createPeerCertificate() : undefined;
  const sockets = await bindPunchSockets();
  const mux = new DatagramMux(sockets.socket);
  const port = mux.port;
  let pairing: Pairing;
  let punched: PunchOutcome;
  try {
    const rendezvousChannel = mux.channel(isRendezvousDatagram);
    pairing = await register(rendezvousChannel, {
      server,
      fallbacks,
      role: options.role === "sender" ? "send" : "receive",
      nameplate: options.code.nameplate,
      candidates: localCandidates(port),
      fingerprint: certificate?.fingerprint,
      onNameplate: (nameplate) => options.onCode?.({ nameplate, words: options.code.words }),
      onNat: options.onNat,
      serverTimeoutMs: options.serverTimeoutMs,
      signal: options.signal,
    });
    options.onPaired?.(pairing);
    const plan = planPunch(pairing.nat, options.relay ?? "auto");
    const relayAddr = pairing.relay;
    if (plan.direct === false && !relayAddr) {
      throw new NoPathError("--relay-only was given, but the rendezvous server offers no relay");
    }
    const candidates: Candidate[] = plan.direct
      ? [
        { addr: pairing.peer.observed, source: "server" },
        ...pairing.peer.candidates.map((addr): Candidate => ({ addr, source: "private" })),
      ]
      : [];
    punched = await punch(mux.channel(isProbeDatagram), {
      role: options.role,
      token: pairing.token,
      selfId: pairing.selfId,
      peerId: pairing.peer.id,
      candidates,
      certificate: certificate?.der,
      timeoutMs: options.punchTimeoutMs,
      spray: plan.birthday === "spray"
        ? { hostname: pairing.peer.observed.hostname, perRound: BIRTHDAY_PROBES_PER_SECOND / 10 }
        : undefined,
      extraSockets: plan.birthday === "sockets"
        ? { count: BIRTHDAY_SOCKETS, target: pairing.peer.observed }
        : undefined,
      relay: relayAddr && plan.relayAfterMs !== undefined
        ? {
          addr: relayAddr,
          afterMs: plan.relayAfterMs,
          open: (signal) =>
            relayHello(rendezvousChannel, {
              relay: relayAddr,
              token: pairing.token,
              selfId: pairing.selfId,
              signal,
            }),
        }
        : undefined,
      natNote: plan.note +
        (relayAddr ? "" : "; the rendezvous server offers no relay") +
        (plan.relayAfterMs === undefined && relayAddr
          ? "; the relay was refused (--no-relay)"
          : ""),
      observedSelf: pairing.observed,
      localPort: port,
      sendLowTtl: sockets.sendLowTtl,
      openMappingMs: OPEN_MAPPING_MS,
      signal: options.signal,
    });
  } finally {
    // Raw UDP work ends here: QUIC binds the same port next.
    sockets.closeLowTtl();
    await mux.close();
  }
  const link = certificate
    ? await acceptPeer(punched.localPort, {
      certificate,
      expectedRemote: punched.remote,
      signal: options.signal,
    })
    : await dialPeer(punched.localPort, punched.remote, {
      peerCertificatePem: certificatePem(checkedCertificate(punched, pairing)),
      signal: options.signal,
    });
  try {
    return await authenticate(link, punched, {
      role: options.role,
      words: options.code.words,
      nameplate: pairing.nameplate,
      channelBinding: certificate?.fingerprint ??
        certificateFingerprint(punched.peerCertificate!),
      signal: options.signal,
    });
  } catch (error) {
    await link[Symbol.asyncDispose]();
    throw error;
  }
}

async function authenticate(
  link: QuicLink,
  punched: PunchOutcome,
  options: {
    role: "sender" | "receiver";
    words: string;
    nameplate: string;
    channelBinding: Uint8Array;
    signal?: AbortSignal;
  },
): Promise<PeerSession> {
  const incoming = link.conn.incomingBidirectionalStreams.getReader();
  const acceptStream = async (): Promise<ByteStream> => {
    const { value, done } = await incoming.read();
    if (done) throw new ProtocolError("The peer closed the QUIC connection");
    return value;
  };
  const pakeStream = options.role === "receiver"
    ? await link.conn.createBidirectionalStream()
    : await acceptStream();
  await runPakeHandshake(pakeStream, {
    role: options.role,
    code: options.words,
    nameplate: options.nameplate,
    channelBinding: options.channelBinding,
    signal: options.signal,
  });
  return {
    path: punched.path,
    remote: punched.remote,
    rttMs: punched.rttMs,
    reason: punched.reason,
    openStream: () => link.conn.createBidirectionalStream(),
    acceptStream,
    async fail(error) {
      const peerReason = await link.peerFailure(PEER_FAILURE_GRACE_MS);
      await link.abort(error instanceof Error ? error.message : String(error));
      if (peerReason === undefined) return error;
      const peer = options.role === "sender" ? "receiver" : "sender";
      return new P2pftError(`The ${peer} stopped: ${peerReason}`, { cause: error });
    },
    async [Symbol.asyncDispose]() {
      incoming.releaseLock();
      await link[Symbol.asyncDispose]();
    },
  };
}

function checkedCertificate(punched: PunchOutcome, pairing: Pairing): Uint8Array {
  const der = punched.peerCertificate;
  if (!der || der.length === 0) {
    throw new ProtocolError(`The sender at ${formatAddr(punched.remote)} sent no certificate`);
  }
  const announced = pairing.peer.fingerprint;
  const actual = certificateFingerprint(der);
  if (announced && !announced.every((byte, index) => byte === actual[index])) {
    throw new P2pftError(
      `The sender's certificate at ${formatAddr(punched.remote)} is not the one it announced ` +
        "through the rendezvous server: someone may be in the middle; nothing was received",
    );
  }
  return der;
}

/** Every IPv4 address of every server, in order, once each. */
async function resolveServers(
  given: { hostname: string; port: number } | { hostname: string; port: number }[],
): Promise<Deno.NetAddr[]> {
  const out = new Map<string, Deno.NetAddr>();
  for (const server of Array.isArray(given) ? given : [given]) {
    let found;
    try {
      found = await lookup(server.hostname, { family: 4, all: true });
    } catch (error) {
      throw new P2pftError(`Cannot resolve rendezvous server "${server.hostname}"`, {
        cause: error,
      });
    }
    for (const { address } of found) {
      out.set(`${address}:${server.port}`, {
        transport: "udp",
        hostname: address,
        port: server.port,
      });
    }
  }
  if (out.size === 0) throw new P2pftError("No rendezvous server address to try");
  return [...out.values()];
}
