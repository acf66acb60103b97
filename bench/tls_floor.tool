# The floor under p2pft's big-file path for ../shared/bench/anchors.sh (bench/tls_floor.ts says
# what it measures): `floor` (4 TLS connections, SHA-256 both ends, file to file), `floor-sync`
# (the same with p2pft's fdatasyncs),
# `floor-relay` (the same through a rendezvous server's TCP relay, on 127.0.0.1:4790) and
# `floor-sync-relay` (through the relay with p2pft's fdatasyncs: what p2pft's relayed transfer must do).
export FLOOR_MAIN=${FLOOR_MAIN:-$PWD}
export FLOOR_DENO=${FLOOR_DENO:-$(command -v deno || echo "npx -y deno@2.9.6")}   # unquoted below: may be two words
export FLOOR_CERT=${WORKDIR:-/tmp/p2pbench}/floor-cert.json
[[ -s $FLOOR_CERT ]] || $FLOOR_DENO run -A "$FLOOR_MAIN/bench/tls_floor.ts" cert "$FLOOR_CERT"
start_helper floor-serve $FLOOR_DENO run -A "$FLOOR_MAIN/main.ts" serve --host 127.0.0.1 --port 4790
floor_send() { wait_port "$P2P_PORT" && $FLOOR_DENO run -A "$FLOOR_MAIN/bench/tls_floor.ts" send "$FLOOR_CERT" "$P2P_SRC" --port "$P2P_PORT"; }
floor_recv() { $FLOOR_DENO run -A "$FLOOR_MAIN/bench/tls_floor.ts" receive "$FLOOR_CERT" "$P2P_OUT" "$P2P_BYTES" --port "$P2P_PORT"; }
register_tool floor floor_send floor_recv
floor_sync_recv() { $FLOOR_DENO run -A "$FLOOR_MAIN/bench/tls_floor.ts" receive "$FLOOR_CERT" "$P2P_OUT" "$P2P_BYTES" --sync --port "$P2P_PORT"; }
register_tool floor-sync floor_send floor_sync_recv
floor_relay_send() { $FLOOR_DENO run -A "$FLOOR_MAIN/bench/tls_floor.ts" send "$FLOOR_CERT" "$P2P_SRC" --relay 127.0.0.1:4790 "${P2P_CODE%%-*}"; }
floor_relay_recv() { $FLOOR_DENO run -A "$FLOOR_MAIN/bench/tls_floor.ts" receive "$FLOOR_CERT" "$P2P_OUT" "$P2P_BYTES" --relay 127.0.0.1:4790 "${P2P_CODE%%-*}"; }
register_tool floor-relay floor_relay_send floor_relay_recv
floor_sync_relay_recv() { $FLOOR_DENO run -A "$FLOOR_MAIN/bench/tls_floor.ts" receive "$FLOOR_CERT" "$P2P_OUT" "$P2P_BYTES" --sync --relay 127.0.0.1:4790 "${P2P_CODE%%-*}"; }
register_tool floor-sync-relay floor_relay_send floor_sync_relay_recv
