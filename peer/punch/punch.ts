import { NoPathError } from "../../base/mod.ts";
import { type DatagramChannel, DatagramMux } from "./datagram_mux.ts";
import { isProbeDatagram } from "./probe.ts";
import {
  type Candidate,
  type CandidateSource,
  type Outgoing,
  type PunchResult,
  PunchState,
  type PunchStateOptions,
} from "./_punch_state.ts";

export type { Candidate, CandidateSource, PunchResult };

/** The state machine's options (role, ids, candidates, certificate, spray) plus what the driver does. */
export interface PunchOptions
  extends Omit<PunchStateOptions, "relay" | "lanGraceMs" | "probeIntervalMs"> {
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Sends a probe with a small TTL from our port (see `_punch_socket.ts`); absent: sent normally. */
  sendLowTtl?: (data: Uint8Array, to: Deno.NetAddr) => void;
  /** Birthday punching, hard side: this many extra sockets keep probing the peer's public address. */
  extraSockets?: { count: number; target: Deno.NetAddr };
  /** The relay fallback: after `afterMs`, `open` says hello to it; then it is a candidate. */
  relay?: { addr: Deno.NetAddr; afterMs: number; open: (signal: AbortSignal) => Promise<void> };
  /** Added to the failure message: what is known about both NATs. */
  natNote?: string;
  /** Our own address as the rendezvous server saw it, and our local port: for the failure message. */
  observedSelf?: Deno.NetAddr;
  localPort: number;
  /** Called once when the path is chosen (the sender: when the receiver's `chosen` arrives). */
  onChosen?: (chosen: PunchResult) => void;
  /**
   * Aborting ends punching at once with the chosen path, if there is one (the
   * sender, once the receiver connected over TLS: no need to linger).
   */
  settle?: AbortSignal;
  signal?: AbortSignal;
}

export interface PunchOutcome extends PunchResult {
  /** The local port whose socket won: QUIC binds it next. */
  localPort: number;
}

const TICK_MS = 20;
const EXTRA_SOCKET_PROBE_INTERVAL_MS = 1000;

interface Lane {
  channel: DatagramChannel;
  state: PunchState;
  port: number;
  mux?: DatagramMux;
}

/**
 * Probes every candidate of the peer until a path answers both ways and the
 * two peers agree on it (peer/PROTOCOL.md). With `extraSockets` or `spray`
 * it also runs birthday punching; with `relay` it falls back to the relay.
 */
export async function punch(
  channel: DatagramChannel,
  options: PunchOptions,
): Promise<PunchOutcome> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const main = new PunchState({ ...options, relay: options.relay?.addr });
  const lanes: Lane[] = [{ channel, state: main, port: options.localPort }];
  const stopped = new AbortController();
  const stop = AbortSignal.any([
    stopped.signal,
    ...(options.signal ? [options.signal] : []),
    ...(options.settle ? [options.settle] : []),
  ]);
  let winner: Lane | undefined;
  let reportedChosen = false;
  let expired = false;
  let relayError: unknown;
  const timers: Array<ReturnType<typeof setTimeout>> = [];
  // The last answers (a sender's chosen-acks) must leave before the socket closes.
  let finalSends: Promise<unknown> = Promise.resolve();
  const send = (lane: Lane, out: Outgoing[]) => {
    const sends: Promise<void>[] = [];
    for (const { data, to, lowTtl } of out) {
      if (lowTtl && options.sendLowTtl) options.sendLowTtl(data, to);
      // Unreachable candidates fail to send; that is what probing finds out.
      else sends.push(lane.channel.send(data, to).catch(() => {}));
    }
    const chosen = lane.state.chosen;
    if (chosen && !reportedChosen) {
      reportedChosen = true;
      options.onChosen?.(chosen);
    }
    if (lane.state.result && !winner) {
      winner = lane;
      finalSends = Promise.all(sends);
      stopped.abort();
    }
  };
  try {
    for (let index = 0; index < (options.extraSockets?.count ?? 0); index++) {
      lanes.push(extraLane(options, options.extraSockets!.target));
    }
    const ticker = setInterval(() => {
      const now = performance.now();
      for (const lane of lanes) send(lane, lane.state.tick(now));
    }, TICK_MS);
    timers.push(ticker);
    timers.push(setTimeout(() => {
      expired = true;
      stopped.abort();
    }, timeoutMs));
    const relay = options.relay;
    if (relay) {
      timers.push(setTimeout(() => {
        relay.open(stop).then(() => main.addRelayCandidate(), (error) => relayError = error);
      }, relay.afterMs));
    }
    for (const lane of lanes) send(lane, lane.state.tick(performance.now()));
    await Promise.all(lanes.map((lane) => receiveLoop(lane, stop, send)));
    await finalSends;
    if (winner) return { ...winner.state.result!, localPort: winner.port };
    options.signal?.throwIfAborted();
    const settled = options.settle?.aborted ? lanes.find((lane) => lane.state.chosen) : undefined;
    if (settled) return { ...settled.state.chosen!, localPort: settled.port };
    if (!expired) throw new Error("Punching stopped without a result");
    throw noPath(main, options, { timeoutMs, relayError });
  } finally {
    for (const timer of timers) clearTimeout(timer);
    stopped.abort();
    // Every extra socket is closed before QUIC binds the winner's port.
    await Promise.all(lanes.map((lane) => lane.mux?.close()));
  }
}

/** Why no path answered in time: what the probes saw, the NAT, the relay's failure. */
function noPath(
  main: PunchState,
  options: PunchOptions,
  ran: { timeoutMs: number; relayError: unknown },
): NoPathError {
  const notes = [
    options.natNote,
    ran.relayError ? `relay: ${(ran.relayError as Error).message}` : undefined,
  ]
    .filter(Boolean);
  return new NoPathError(
    `No path to the peer after ${ran.timeoutMs / 1000} s: ` +
      main.describeFailure(options.observedSelf, options.localPort) +
      (notes.length ? `; ${notes.join("; ")}` : ""),
  );
}

/** One birthday socket: IPv4 only, as it is an IPv4 NAT's ports that are unknown. */
function extraLane(options: PunchOptions, target: Deno.NetAddr): Lane {
  const mux = new DatagramMux(
    Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 }),
  );
  const state = new PunchState({
    ...options,
    candidates: [{ addr: target, source: "server" }],
    probeIntervalMs: EXTRA_SOCKET_PROBE_INTERVAL_MS,
    openMappingMs: undefined,
    spray: undefined,
    relay: undefined,
  });
  return { channel: mux.channel(isProbeDatagram), state, port: mux.port, mux };
}

async function receiveLoop(
  lane: Lane,
  stop: AbortSignal,
  send: (lane: Lane, out: Outgoing[]) => void,
): Promise<void> {
  while (!stop.aborted) {
    let datagram;
    try {
      datagram = await lane.channel.receive(stop);
    } catch {
      return; // Stopped, or the socket closed.
    }
    send(lane, lane.state.receive(datagram.data, datagram.from, performance.now()));
  }
}
