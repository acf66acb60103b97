import { NoPathError } from "../errors.ts";
import type { DatagramChannel } from "./datagram_mux.ts";
import { type Candidate, type PunchResult, PunchState } from "./_punch_state.ts";

export type { Candidate, PunchResult };

export interface PunchOptions {
  role: "sender" | "receiver";
  token: Uint8Array;
  selfId: Uint8Array;
  peerId: Uint8Array;
  candidates: Candidate[];
  /** Sender only: its certificate, DER. */
  certificate?: Uint8Array;
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Our own address as the rendezvous server saw it, and our local port: for the failure message. */
  observedSelf?: Deno.NetAddr;
  localPort?: number;
  signal?: AbortSignal;
}

const TICK_MS = 25;

/**
 * Probes every candidate of the peer from the shared socket until a path
 * answers both ways and the two peers agree on it (peer/PROTOCOL.md).
 */
export async function punch(channel: DatagramChannel, options: PunchOptions): Promise<PunchResult> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const state = new PunchState(options);
  const finished = new AbortController();
  const expired = new AbortController();
  const deadline = expired.signal;
  const timer = setTimeout(() => expired.abort(), timeoutMs);
  const stop = AbortSignal.any([
    finished.signal,
    deadline,
    ...(options.signal ? [options.signal] : []),
  ]);
  const sendAll = (out: Array<{ data: Uint8Array; to: Deno.NetAddr }>) => {
    for (const { data, to } of out) {
      // Unreachable candidates fail to send; that is what probing finds out.
      channel.send(data, to).catch(() => {});
    }
    if (state.result) finished.abort();
  };
  const ticker = setInterval(() => sendAll(state.tick(performance.now())), TICK_MS);
  try {
    sendAll(state.tick(performance.now()));
    while (!state.result) {
      let datagram;
      try {
        datagram = await channel.receive(stop);
      } catch (error) {
        if (state.result) break;
        options.signal?.throwIfAborted();
        if (deadline.aborted) {
          throw new NoPathError(
            `No direct path to the peer after ${timeoutMs / 1000} s: ` +
              state.describeFailure(options.observedSelf, options.localPort),
          );
        }
        throw error;
      }
      sendAll(state.receive(datagram.data, datagram.from, performance.now()));
    }
    return state.result;
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
  }
}
