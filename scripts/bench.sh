#!/usr/bin/env bash
# The whole table of docs/BENCHMARKS.md, in one run: pushwire and the peers of
# ../shared/tools/peers (nginx+nchan, Node.js ws, axum) driven by the same
# pushwire-load, server pinned to core SERVER_CPU, load to core LOAD_CPU.
#
#   1. Installs what is missing, nothing twice: nginx with nchan and Lua (apt;
#      a temporary policy-rc.d keeps the system nginx from starting), the ws
#      package for the Node peer (its start.sh), the axum peer (cargo build,
#      into target/peers/). Builds pushwire and pushwire-load in release and
#      copies them aside, so a rebuild during the run changes nothing.
#   2. For each scenario, for each server: starts the server on a fresh port
#      under setsid (its own scheduling autogroup: a server started from this
#      shell would share one with the load generator), pinned; runs
#      pushwire-load pinned with --server-pid; stops the server. A fresh
#      server per scenario: RSS is measured from a clean start, and nothing
#      one scenario left behind weighs on the next.
#   3. Writes every report to OUT (JSON + SVG), draws the side-by-side plots
#      (plot-*.svg) and prints the Markdown table (scripts/bench_table.py),
#      also saved as OUT/table.md.
#
# Env: SERVERS ("pushwire nchan node-ws axum"), SCENARIOS (all, see below),
#      DURATION (10), WARMUP (2), CONNS (10000), SUBS (1000), OUT
#      (target/bench), SERVER_CPU (0), LOAD_CPU (1), BASE_PORT (18400),
#      PUSHWIRE_BIN (the pushwire binary to measure; default this tree's
#      release build: another build, e.g. an older commit's, is measured by
#      the same load generator).
# Usage: scripts/bench.sh      (Ctrl-C stops everything it started)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="$(cd "$ROOT/../shared/tools/peers" 2>/dev/null && pwd)" || { echo "bench: ../shared/tools/peers not found" >&2; exit 1; }
SERVERS=${SERVERS:-pushwire nchan node-ws axum}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-10000}
SUBS=${SUBS:-1000}
OUT=${OUT:-$ROOT/target/bench}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${BASE_PORT:-18400}
# name | pushwire-load arguments
ALL_SCENARIOS="
capacity-ws|capacity --proto ws --conns $CONNS
capacity-sse|capacity --proto sse --conns $CONNS
fanout-ws|fanout --proto ws --subs $SUBS --duration $DURATION --warmup $WARMUP
fanout-sse|fanout --proto sse --subs $SUBS --duration $DURATION --warmup $WARMUP
fanout-ws-10|fanout --proto ws --subs $SUBS --rate 10 --duration $DURATION --warmup $WARMUP
echo-16|echo --conns 100 --inflight 16 --duration $DURATION --warmup $WARMUP
echo-1|echo --conns 100 --inflight 1 --duration $DURATION --warmup $WARMUP
plaintext|plaintext --conns 64 --duration $DURATION --warmup $WARMUP
stall-sse|stall --proto sse --subs 2000 --size 1048576 --publishes 3 --probes 4 --probe-every 5
stall-sse-1000|stall --proto sse --subs 1000 --size 1048576 --publishes 3 --probes 4 --probe-every 5
bytes|bytes --updates 20 --interval 500"
SCENARIOS=${SCENARIOS:-$(echo "$ALL_SCENARIOS" | cut -d'|' -f1 | xargs)}

log() { echo "bench: $*" >&2; }
die() { echo "bench: ERROR: $*" >&2; exit 1; }

# --- cleanup: everything this script started --------------------------------
SERVER_PID=""
SERVER_KIND=""
SERVER_PORT=""
POLICY_CREATED=0
stop_server() {
  case "$SERVER_KIND" in
    nchan) "$PEERS/nchan/stop.sh" "$SERVER_PORT" >/dev/null 2>&1 || true ;;
    node-ws) "$PEERS/node-ws/stop.sh" "$SERVER_PORT" >/dev/null 2>&1 || true ;;
    *) if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
         kill -TERM "$SERVER_PID" 2>/dev/null || true
         for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
         kill -KILL "$SERVER_PID" 2>/dev/null || true
       fi ;;
  esac
  SERVER_PID=""; SERVER_KIND=""
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  [ "$POLICY_CREATED" = 1 ] && rm -f /usr/sbin/policy-rc.d
  exit $rc
}
trap cleanup EXIT INT TERM

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

# --- 1. install and build -----------------------------------------------------
[ "$(nproc)" -gt "$(( SERVER_CPU > LOAD_CPU ? SERVER_CPU : LOAD_CPU ))" ] || die "need cores $SERVER_CPU and $LOAD_CPU; nproc is $(nproc)"
need_apt=()
if [[ " $SERVERS " == *" nchan "* ]]; then
  for p in nginx libnginx-mod-nchan libnginx-mod-http-lua lua-nginx-websocket; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$p")
  done
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    POLICY_CREATED=1
  fi
  apt-cache show "${need_apt[@]}" >/dev/null 2>&1 || $SUDO apt-get update -qq
  log "installing ${need_apt[*]}"
  $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [[ " $SERVERS " == *" node-ws "* ]]; then
  command -v node >/dev/null || die "node not found (the node-ws peer needs Node.js and npm)"
fi
log "cargo build --release"
(cd "$ROOT" && cargo build --release --quiet -p pushwire -p pushwire-load)
AXUM_BIN="$ROOT/target/peers/axum/release/axum-peer"
if [[ " $SERVERS " == *" axum "* ]]; then
  log "building the axum peer"
  (cd "$PEERS/axum" && CARGO_TARGET_DIR="$ROOT/target/peers/axum" cargo build --release --quiet)
fi
mkdir -p "$OUT"
BIN="$OUT/bin"
mkdir -p "$BIN"
cp "${PUSHWIRE_BIN:-$ROOT/target/release/pushwire}" "$BIN/pushwire"
cp "$ROOT/target/release/pushwire-load" "$BIN/"

# --- 2. run -------------------------------------------------------------------
start_server() {  # kind port
  SERVER_KIND=$1; SERVER_PORT=$2
  case "$1" in
    pushwire)
      setsid taskset -c "$SERVER_CPU" "$BIN/pushwire" --listen "127.0.0.1:$2" --www "$ROOT/www" \
        --log-level warn >"$OUT/server-$1.log" 2>&1 &
      SERVER_PID=$! ;;
    nchan)
      SERVER_PID=$(setsid taskset -c "$SERVER_CPU" "$PEERS/nchan/start.sh" "$2" 1) ;;
    node-ws)
      SERVER_PID=$(setsid taskset -c "$SERVER_CPU" "$PEERS/node-ws/start.sh" "$2" 2>>"$OUT/server-$1.log") ;;
    axum)
      setsid taskset -c "$SERVER_CPU" "$AXUM_BIN" --port "$2" --threads 1 >"$OUT/server-$1.log" 2>&1 &
      SERVER_PID=$! ;;
    *) die "unknown server '$1' (pushwire nchan node-ws axum)" ;;
  esac
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$2/plaintext" && return 0
    sleep 0.1
  done
  die "$1 did not answer on port $2"
}

FAILED=()
for scenario in $SCENARIOS; do
  args=$(echo "$ALL_SCENARIOS" | grep "^$scenario|" | cut -d'|' -f2) || die "unknown scenario '$scenario'"
  for server in $SERVERS; do
    PORT=$((PORT + 1))
    log "$scenario · $server (port $PORT)"
    start_server "$server" "$PORT"
    # shellcheck disable=SC2086  # $args is a list of arguments
    if ! taskset -c "$LOAD_CPU" "$BIN/pushwire-load" $args --target "127.0.0.1:$PORT" \
        --server-pid "$SERVER_PID" --name "$server" \
        --json "$OUT/$scenario-$server.json" --svg "$OUT/$scenario-$server.svg"; then
      FAILED+=("$scenario-$server")
    fi
    stop_server
    sleep 1
  done
done

# --- 3. plots and table -------------------------------------------------------
plot() {  # name scenario
  local files=()
  for server in $SERVERS; do [ -f "$OUT/$2-$server.json" ] && files+=("$OUT/$2-$server.json"); done
  [ "${#files[@]}" -gt 0 ] && "$BIN/pushwire-load" plot --svg "$OUT/plot-$1.svg" "${files[@]}"
}
for scenario in $SCENARIOS; do
  case "$scenario" in capacity-*|fanout-ws-10|echo-1|echo-16) plot "$scenario" "$scenario" || true ;; esac
done
python3 "$ROOT/scripts/bench_table.py" "$OUT" $SERVERS | tee "$OUT/table.md"
if [ "${#FAILED[@]}" -gt 0 ]; then
  log "runs that reported a failure (their figures are in the table, marked): ${FAILED[*]}"
  exit 1
fi
