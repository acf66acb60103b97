/** The server's statistics as Prometheus text (exposition format 0.0.4). */
import type { LatencyHistogram } from "../store/mod.ts";
import type { ServerStats } from "./_serve_options.ts";

type Sample = [labels: string, value: number];

function metric(name: string, kind: "counter" | "gauge", help: string, samples: Sample[]) {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${kind}`,
    ...samples.map(([labels, value]) => `${name}${labels} ${value}`),
  ];
}

/** Renders `stats` (and the store's latency, when it has one) for a scrape. */
export function metricsText(stats: ServerStats, store: string, latency?: LatencyHistogram): string {
  const lines = [
    ...metric("p2pft_info", "gauge", "This instance's room store.", [
      [`{store="${store.replaceAll('"', "")}"}`, 1],
    ]),
    ...metric("p2pft_requests_total", "counter", "Rendezvous datagrams and frames received.", [
      ["", stats.received],
    ]),
    ...metric("p2pft_replies_total", "counter", "Replies sent.", [["", stats.replies]]),
    ...metric("p2pft_pairings_total", "counter", "Rooms this instance paired.", [
      ["", stats.pairings],
    ]),
    ...metric("p2pft_rooms", "gauge", "Rooms held (in the whole shared store, if shared).", [
      ["", stats.rooms],
    ]),
    ...metric("p2pft_relay_sessions", "gauge", "Live relay sessions on this instance.", [
      ['{transport="udp"}', stats.relaySessions],
      ['{transport="tcp"}', stats.tcpRelaySessions],
    ]),
    ...metric("p2pft_relayed_bytes_total", "counter", "Bytes relayed by this instance.", [
      ['{transport="udp"}', stats.relayedBytes],
      ['{transport="tcp"}', stats.tcpRelayedBytes],
    ]),
    ...metric("p2pft_tcp_connections", "gauge", "TCP connections open.", [
      ["", stats.tcpConnections],
    ]),
    ...metric(
      "p2pft_drops_total",
      "counter",
      "Requests or datagrams dropped or refused, by reason.",
      [
        ['{reason="malformed"}', stats.malformed],
        ['{reason="rate_limited"}', stats.rateLimited],
        ['{reason="too_small"}', stats.tooSmall],
        ['{reason="relay"}', stats.relayDropped],
        ['{reason="tcp_refused"}', stats.tcpRefused],
        ['{reason="tcp_evicted"}', stats.tcpEvicted],
        ['{reason="store_unavailable"}', stats.storeUnavailable],
      ],
    ),
    ...metric("p2pft_errors_total", "counter", "Unexpected errors survived (should stay 0).", [
      ["", stats.errors],
    ]),
    ...metric("p2pft_store_round_trips_total", "counter", "Round trips to the shared store.", [
      ["", stats.storeRoundTrips],
    ]),
    ...metric("p2pft_store_errors_total", "counter", "Connection errors of the shared store.", [
      ["", stats.storeErrors],
    ]),
    "# HELP p2pft_store_latency_seconds Time of one request to the shared store.",
    "# TYPE p2pft_store_latency_seconds histogram",
    ...(latency?.lines("p2pft_store_latency_seconds") ?? []),
  ];
  return lines.join("\n") + "\n";
}
