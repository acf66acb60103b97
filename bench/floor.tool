# The floor beside the anchors (bench/floor.ts says what each tool does): sourced by
# ../shared/bench/anchors.sh, run from the project root:
#   EXTRA_TOOLS="bench/floor.tool ../shared/bench/tools.d/p2pft.tool" \
#     TOOLS="wormhole-william-relay p2pft deno-floor deno-floor-pake deno-floor-pake-warm \
#     deno-floor-node deno-bare" ../shared/bench/anchors.sh 1K 5
# deno-floor: two minimal Deno processes doing p2pft's job (a UDP rendezvous exchange, TCP, TLS
# with a pinned certificate, the file, exit); deno-floor-pake: the same with a certificate made by
# the sender and p2pft's SPAKE2 over the TLS connection (bench/floor_pake.ts); -warm: with
# p2pft's warmCrypto at start; deno-floor-node: deno-floor after a first import of a Node built-in
# (node:net) on each side; deno-bare: `deno run` of a script that does nothing.
export FLOOR_TS=$(realpath "$(dirname "${BASH_SOURCE[0]}")/floor.ts")
# The throwaway certificate goes with the run's results (anchors.sh's RUNDIR).
export FLOOR_DIR="${RUNDIR:-$(mktemp -d /tmp/p2pft-floor.XXXXXX)}/floor-cert"
mkdir -p "$FLOOR_DIR"
export FLOOR_DENO=${P2PFT_DENO:-$(command -v deno || echo "npx -y deno@2.9.6")}   # unquoted below: may be two words
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=floor \
  -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE \
  -keyout "$FLOOR_DIR/key.pem" -out "$FLOOR_DIR/cert.pem" 2>/dev/null
start_helper deno-floor-serve $FLOOR_DENO run -A "$FLOOR_TS" serve 4791
# Its UDP port bound (4791 = 0x12B7), so that no first registration is lost when a floor runs first.
for _ in $(seq 500); do grep -q " 0100007F:12B7 " /proc/net/udp && break; sleep 0.01; done
deno_floor_send() { $FLOOR_DENO run -A "$FLOOR_TS" send "$P2P_SRC" "$P2P_CODE" 4791 "$FLOOR_DIR/cert.pem" "$FLOOR_DIR/key.pem"; }
deno_floor_recv() { $FLOOR_DENO run -A "$FLOOR_TS" receive "$P2P_OUT" "$P2P_CODE" 4791 "$FLOOR_DIR/cert.pem"; }
register_tool deno-floor deno_floor_send deno_floor_recv
export FLOOR_PAKE_TS=$(realpath "$(dirname "${BASH_SOURCE[0]}")/floor_pake.ts")
deno_floor_pake_send() { $FLOOR_DENO run -A "$FLOOR_PAKE_TS" send "$P2P_SRC" "$P2P_CODE" 4791; }
deno_floor_pake_recv() { $FLOOR_DENO run -A "$FLOOR_PAKE_TS" receive "$P2P_OUT" "$P2P_CODE" 4791; }
register_tool deno-floor-pake deno_floor_pake_send deno_floor_pake_recv
deno_floor_pake_warm_send() { $FLOOR_DENO run -A "$FLOOR_PAKE_TS" send-warm "$P2P_SRC" "$P2P_CODE" 4791; }
deno_floor_pake_warm_recv() { $FLOOR_DENO run -A "$FLOOR_PAKE_TS" receive-warm "$P2P_OUT" "$P2P_CODE" 4791; }
register_tool deno-floor-pake-warm deno_floor_pake_warm_send deno_floor_pake_warm_recv
deno_floor_node_send() { $FLOOR_DENO run -A "$FLOOR_TS" send-node "$P2P_SRC" "$P2P_CODE" 4791 "$FLOOR_DIR/cert.pem" "$FLOOR_DIR/key.pem"; }
deno_floor_node_recv() { $FLOOR_DENO run -A "$FLOOR_TS" receive-node "$P2P_OUT" "$P2P_CODE" 4791 "$FLOOR_DIR/cert.pem"; }
register_tool deno-floor-node deno_floor_node_send deno_floor_node_recv
deno_bare_send() { $FLOOR_DENO run -A "$FLOOR_TS"; }
deno_bare_recv() { $FLOOR_DENO run -A "$FLOOR_TS" && cp "$P2P_SRC" "$P2P_OUT"; }
register_tool deno-bare deno_bare_send deno_bare_recv
