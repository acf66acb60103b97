/**
 * How many data streams a transfer should stripe over, and over how many QUIC
 * connections (lanes), from what the path is known to be before it starts
 * (transfer/PROTOCOL.md, "How many streams and lanes").
 */
import { MAX_STREAMS } from "../../transfer/wire/limits_mod.ts";
import type { Transport } from "./link.ts";

/** Receive window quinn (in Deno 2.9.6) gives each QUIC stream: its bytes in flight per RTT. */
export const QUIC_STREAM_WINDOW_BYTES = 1_250_000;
/** Bytes per second the stream windows are sized for: 1 Gbit/s. */
const TARGET_BYTES_PER_SECOND = 125_000_000;
/** Over TCP the kernel autotunes each connection's window: a few streams keep the cores busy. */
const TCP_STREAMS = 4;
const MIN_QUIC_STREAMS = 4;
/**
 * The transfer protocol's limit (16). 16 stream windows (20 MB) are twice
 * quinn's 10 MB connection send window: more streams would add no bytes in flight.
 */
const MAX_QUIC_STREAMS = MAX_STREAMS;

/**
 * Data streams for a path: over QUIC enough per-stream windows to keep
 * TARGET_BYTES_PER_SECOND in flight for one round trip (4 at up to 40 ms,
 * 10 at 100 ms, 16 from 160 ms); over TCP always 4. An unknown RTT counts as
 * short.
 */
export function dataStreamsFor(path: { transport: Transport; rttMs: number }): number {
  if (path.transport === "tcp") return TCP_STREAMS;
  const rttMs = Number.isFinite(path.rttMs) && path.rttMs > 0 ? path.rttMs : 0;
  const inFlight = TARGET_BYTES_PER_SECOND * rttMs / 1000;
  const streams = Math.ceil(inFlight / QUIC_STREAM_WINDOW_BYTES);
  return Math.min(MAX_QUIC_STREAMS, Math.max(MIN_QUIC_STREAMS, streams));
}

/** QUIC connections per link at most (peer/quic/_lanes.ts has the same cap). */
const MAX_LANES = 8;
/** One lane per this much round trip. */
const LANE_RTT_MS = 40;
/** Below this round trip one connection: its start-up is short and its send window covers the path. */
const LANES_FROM_RTT_MS = 150;

/**
 * QUIC connections (lanes) for a punched path, the first one included: from
 * 150 ms of round trip, one per 40 ms, at most 8 (4 at 150 ms, 8 from 281 ms);
 * below, one. A lane brings its own start-up window and send window, which a
 * long path needs; at 100 ms three lanes did no better than one (73 against 81
 * Mbit/s at 0 % loss, 80 and 80 at 1 %, interleaved runs) and the receiver
 * dropped more datagrams. The LAN and the relay keep one connection.
 */
export function lanesFor(path: { path: "lan" | "direct" | "relay"; rttMs: number }): number {
  if (path.path !== "direct" || !(path.rttMs >= LANES_FROM_RTT_MS)) return 1;
  return Math.min(MAX_LANES, Math.ceil(path.rttMs / LANE_RTT_MS));
}
