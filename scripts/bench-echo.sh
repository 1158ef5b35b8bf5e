#!/usr/bin/env bash
# WebSocket echo (GET /ws/echo): pushwire against peer servers, side by side.
#
# INTERIM: the load client is scripts/bench-echo.mjs, a Node.js client built on
# the npm `ws` package (a client we did not write). The project's own load
# generator, pushwire-load, comes later and replaces it; until then the Node
# client may well be the bottleneck (one core, JavaScript), so messages/s and
# latency can measure the client as much as the server. Server CPU ns per echo
# (server utime+stime / echoes) does not depend on the client: compare that.
#
#   1. Installs what is missing, and nothing twice: for the nginx peer the apt
#      packages nginx libnginx-mod-nchan libnginx-mod-http-lua lua-nginx-websocket
#      (apt-get update only when the package lists do not know one of them; a
#      temporary policy-rc.d keeps the system nginx from starting, removed again
#      only if this script created it), and the client's npm packages
#      (scripts/bench-echo/, npm ci from the lock file).
#   2. Builds pushwire in release.
#   3. Starts the servers, each pinned to core SERVER_CPU (all threads; nginx:
#      one worker, master and worker pinned):
#        pushwire  target/release/pushwire --heartbeat 3600 --log-level warn
#        node-ws   ../shared/tools/peers/node-ws/start.sh PORT  (Node.js + ws)
#        nginx     ../shared/tools/peers/nchan/start.sh PORT 1  (nginx + Lua echo,
#                  lua-nginx-websocket; nchan itself cannot echo)
#      and checks each with a short verified echo run.
#   4. Scenarios: CONNS connections x 1 message in flight, CONNS x 16 in flight
#      (INFLIGHTS), SIZE-byte text messages. RUNS runs each; within a run every
#      scenario is measured on every server in turn, the server order rotating
#      from run to run, so drift on the shared machine hits all servers alike.
#      The client runs pinned to core LOAD_CPU: it connects, warms up WARMUP s,
#      measures DURATION s, drains, and verifies every echoed byte (content and
#      order per connection).
#   5. Per run: messages/s, round-trip latency p50/p99 (exact, from every echo),
#      server CPU during the measured window (utime+stime from /proc/PID/stat)
#      and so server CPU ns per echo, the client's own CPU (% of its core; >= 95 %
#      means the client saturated), and the machine's other CPU use ("others").
#   6. Prints a table, the medians, ratios pushwire / best peer (and each peer,
#      of medians and as the median of run-by-run pairs), and writes JSON to OUT.
#
# Shared machines: before each run the script waits (up to QUIET_WAIT s) until
# the machine's busy time is below QUIET_MAX % of one core (our servers are idle
# then), and records how long it waited and the others' CPU use during the run.
#
# Env: RUNS (3), DURATION (10s), WARMUP (2s), CONNS (100), INFLIGHTS ("1 16"),
#      SIZE (64), SERVERS ("pushwire node-ws nginx"), OUT (target/bench-echo.json),
#      PUSHWIRE_PORT (18391), NODE_WS_PORT (18392), NGINX_PORT (18393),
#      SERVER_CPU (0), LOAD_CPU (1), QUIET_MAX (10), QUIET_WAIT (60; 0 = do not
#      wait), CLEAN_MAX (10: runs whose "others" stayed below it are "clean"),
#      SKIP_BUILD=1 to use the existing binary.
# Usage: scripts/bench-echo.sh        (Ctrl-C stops everything it started)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="$ROOT/../shared/tools/peers"
CLIENT="$ROOT/scripts/bench-echo.mjs"
CLIENT_DIR="$ROOT/scripts/bench-echo"
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-100}
INFLIGHTS=${INFLIGHTS:-"1 16"}
SIZE=${SIZE:-64}
SERVERS=${SERVERS:-"pushwire node-ws nginx"}
OUT=${OUT:-$ROOT/target/bench-echo.json}
PW_PORT=${PUSHWIRE_PORT:-18391}
NW_PORT=${NODE_WS_PORT:-18392}
NG_PORT=${NGINX_PORT:-18393}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
QUIET_MAX=${QUIET_MAX:-10}
QUIET_WAIT=${QUIET_WAIT:-60}
CLEAN_MAX=${CLEAN_MAX:-10}
PW_BIN="$ROOT/target/release/pushwire"
APT_PACKAGES=(nginx libnginx-mod-nchan libnginx-mod-http-lua lua-nginx-websocket)

log() { echo "bench-echo: $*" >&2; }
die() { echo "bench-echo: ERROR: $*" >&2; exit 1; }

# Seconds from "10s", "1m", "10" (fractions allowed for s).
seconds() {
  case $1 in
    *ms) die "durations in ms are too short: $1" ;;
    *s) echo "${1%s}" ;;
    *m) echo $(( ${1%m} * 60 )) ;;
    *) echo "$1" ;;
  esac
}
DUR_S=$(seconds "$DURATION")
WARM_S=$(seconds "$WARMUP")
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$RUNS'"
[[ $DUR_S =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "DURATION must be like 10s, not '$DURATION'"
[[ $WARM_S =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "WARMUP must be like 2s, not '$WARMUP'"
read -r -a SERVER_LIST <<<"$SERVERS"
read -r -a INFLIGHT_LIST <<<"$INFLIGHTS"
for s in "${SERVER_LIST[@]}"; do
  case $s in pushwire|node-ws|nginx) ;; *) die "unknown server '$s' (pushwire node-ws nginx)" ;; esac
done
want() { [[ " ${SERVER_LIST[*]} " == *" $1 "* ]]; }
if want node-ws; then [ -x "$PEERS/node-ws/start.sh" ] || die "node-ws peer not found at $PEERS/node-ws"; fi
if want nginx; then [ -x "$PEERS/nchan/start.sh" ] || die "nginx peer not found at $PEERS/nchan"; fi
PEERS="$(cd "$PEERS" && pwd)"

# --- cleanup: everything this script started, also on Ctrl-C ---------------
TMP="$(mktemp -d)"
PW_PID=""
NW_STARTED=0
NG_STARTED=0
CLIENT_PID=""
POLICY_CREATED=0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$CLIENT_PID" ] && kill -0 "$CLIENT_PID" 2>/dev/null; then
    kill -TERM "$CLIENT_PID" 2>/dev/null || true
    wait "$CLIENT_PID" 2>/dev/null || true
  fi
  if [ -n "$PW_PID" ] && kill -0 "$PW_PID" 2>/dev/null; then
    kill -TERM "$PW_PID" 2>/dev/null || true
    wait "$PW_PID" 2>/dev/null || true
  fi
  if [ "$NW_STARTED" = 1 ]; then
    "$PEERS/node-ws/stop.sh" "$NW_PORT" >/dev/null || true
  fi
  if [ "$NG_STARTED" = 1 ]; then
    "$PEERS/nchan/stop.sh" "$NG_PORT" >/dev/null || true
  fi
  if [ "$POLICY_CREATED" = 1 ]; then
    $SUDO rm -f /usr/sbin/policy-rc.d
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. packages --------------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
if want nginx; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ -n "$SUDO" ]; then
      command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot install ${missing[*]}"
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Installing nginx would start the system nginx on port 80; a policy-rc.d
    # that answers 101 ("action forbidden") stops that.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
      $SUDO chmod 755 /usr/sbin/policy-rc.d
      POLICY_CREATED=1
    fi
    if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
      log "apt-get update (the package lists do not know: ${missing[*]})"
      $SUDO apt-get update -qq
    fi
    log "installing ${missing[*]}"
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    if [ "$POLICY_CREATED" = 1 ]; then
      $SUDO rm -f /usr/sbin/policy-rc.d
      POLICY_CREATED=0
    fi
  fi
  command -v nginx >/dev/null 2>&1 || die "nginx not found"
fi
for cmd in node npm taskset setsid getconf pgrep; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found"
done
if [ ! -f "$CLIENT_DIR/node_modules/ws/package.json" ]; then
  log "npm ci in scripts/bench-echo (the client's ws package)"
  (cd "$CLIENT_DIR" && npm ci --no-audit --no-fund >&2) || die "npm ci in $CLIENT_DIR failed"
fi
[ "$(nproc)" -gt "$(( SERVER_CPU > LOAD_CPU ? SERVER_CPU : LOAD_CPU ))" ] \
  || die "need cores $SERVER_CPU and $LOAD_CPU; nproc is $(nproc)"

# --- 2. build -------------------------------------------------------------------
if want pushwire; then
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet --bin pushwire)
  fi
  [ -x "$PW_BIN" ] || die "$PW_BIN missing (cargo build --release)"
fi

# --- helpers -------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)

# Busy ticks of the whole machine (all cores) from the first line of /proc/stat.
sys_busy() {
  local cpu user nice system idle iowait irq softirq steal rest
  read -r cpu user nice system idle iowait irq softirq steal rest </proc/stat
  : "$cpu" "$idle" "$iowait" "$rest"
  echo $(( user + nice + system + irq + softirq + steal ))
}

# Waits until the machine's busy time over 2 s is below QUIET_MAX % of one
# core, for at most QUIET_WAIT seconds. Sets WAITED and QUIET_PCT (the last
# reading: what the run started with).
WAITED=0
QUIET_PCT=0
wait_quiet() {
  local start b0 b1
  start=$SECONDS
  while :; do
    b0=$(sys_busy)
    sleep 2
    b1=$(sys_busy)
    QUIET_PCT=$(( 100 * (b1 - b0) / CLK_TCK / 2 ))
    WAITED=$(( SECONDS - start ))
    [ "$QUIET_PCT" -lt "$QUIET_MAX" ] && return 0
    if [ "$WAITED" -ge "$QUIET_WAIT" ]; then
      log "machine still busy (${QUIET_PCT}% of a core) after ${WAITED}s; running anyway"
      return 0
    fi
  done
}

wait_port() {
  local port=$1 i
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
    : "$i"
  done
  return 1
}

pin() { # all threads of the given PIDs to SERVER_CPU
  local pid
  for pid in "$@"; do
    taskset -apc "$SERVER_CPU" "$pid" >/dev/null || die "taskset $pid failed"
  done
}

# --- 3. servers -----------------------------------------------------------------
declare -A PORT PIDS
PORT[pushwire]=$PW_PORT
PORT[node-ws]=$NW_PORT
PORT[nginx]=$NG_PORT
for s in "${SERVER_LIST[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${PORT[$s]}") 2>/dev/null; then
    die "port ${PORT[$s]} ($s) is already in use (set PUSHWIRE_PORT / NODE_WS_PORT / NGINX_PORT)"
  fi
done

PW_VERSION=""
NW_VERSION=""
NGINX_VERSION=""
if want pushwire; then
  log "starting pushwire on $PW_PORT (core $SERVER_CPU)"
  # setsid: a session of its own, as nginx has (it daemonizes): with autogroup
  # scheduling, CPU is shared between sessions first (see bench-plaintext.sh).
  setsid taskset -c "$SERVER_CPU" "$PW_BIN" --listen "127.0.0.1:$PW_PORT" --heartbeat 3600 \
    --log-level warn 2>"$TMP/pushwire.log" &
  PW_PID=$!
  wait_port "$PW_PORT" || die "pushwire did not start: $(cat "$TMP/pushwire.log")"
  [ "$(readlink "/proc/$PW_PID/exe")" = "$(readlink -f "$PW_BIN")" ] \
    || die "process $PW_PID is not $PW_BIN (setsid forked?)"
  PIDS[pushwire]=$PW_PID
  PW_VERSION=$(sed -n 's/^\(pushwire [^ ]*\) listening.*/\1/p' "$TMP/pushwire.log" | head -n1)
fi

if want node-ws; then
  log "starting node-ws on $NW_PORT (core $SERVER_CPU)"
  NW_STARTED=1
  # setsid -w: its own session too (start.sh leaves node running in it).
  NW_PID=$(setsid -w "$PEERS/node-ws/start.sh" "$NW_PORT") || die "node-ws did not start"
  [[ $NW_PID =~ ^[0-9]+$ ]] || die "node-ws start.sh printed '$NW_PID', not a PID"
  pin "$NW_PID"
  wait_port "$NW_PORT" || die "node-ws does not answer on $NW_PORT"
  PIDS[node-ws]=$NW_PID
  NW_VERSION="node $(node --version), ws $(node -p "require('$PEERS/node-ws/node_modules/ws/package.json').version")"
fi

if want nginx; then
  log "starting nginx + Lua echo on $NG_PORT (1 worker, core $SERVER_CPU)"
  NG_STARTED=1
  NG_MASTER=$("$PEERS/nchan/start.sh" "$NG_PORT" 1) || die "nginx did not start"
  [[ $NG_MASTER =~ ^[0-9]+$ ]] || die "nginx start.sh printed '$NG_MASTER', not a PID"
  NG_WORKERS=()
  for _ in $(seq 1 50); do
    mapfile -t NG_WORKERS < <(pgrep -P "$NG_MASTER" || true)
    [ "${#NG_WORKERS[@]}" -gt 0 ] && break
    sleep 0.1
  done
  [ "${#NG_WORKERS[@]}" -gt 0 ] || die "nginx master $NG_MASTER has no workers"
  pin "$NG_MASTER" "${NG_WORKERS[@]}"
  wait_port "$NG_PORT" || die "nginx does not answer on $NG_PORT"
  PIDS[nginx]="$NG_MASTER ${NG_WORKERS[*]}"
  NGINX_VERSION="$(nginx -v 2>&1 | sed 's/^nginx version: //'), lua-nginx-websocket $(dpkg-query -W -f='${Version}' lua-nginx-websocket 2>/dev/null || echo '?')"
fi

# Each server: a short verified echo run (both scenarios' shapes, small).
for s in "${SERVER_LIST[@]}"; do
  if ! node "$CLIENT" --port "${PORT[$s]}" --connections 4 --inflight 16 --size "$SIZE" \
      --warmup 0.2 --duration 0.5 >"$TMP/check.json" 2>"$TMP/check.err"; then
    die "$s: echo check failed: $(cat "$TMP/check.err") $(cat "$TMP/check.json")"
  fi
  log "$s: echo check ok ($(node -p "JSON.parse(require('fs').readFileSync('$TMP/check.json','utf8')).echoes_verified") echoes verified)"
done

# --- 4. runs --------------------------------------------------------------------
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
KERNEL=$(uname -r)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
CLIENT_VERSION="node $(node --version), ws $(node -p "require('$CLIENT_DIR/node_modules/ws/package.json').version")"
CMD="taskset -c $LOAD_CPU node scripts/bench-echo.mjs --port PORT --connections $CONNS --inflight K --size $SIZE --warmup $WARM_S --duration $DUR_S --server-pids PIDS"
MEM_GB=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)

echo "machine: $(nproc) cores, $CPU_MODEL, ${MEM_GB} GiB, kernel $KERNEL, $DATE"
echo "servers (core $SERVER_CPU):"
want pushwire && echo "  pushwire  $PW_VERSION (--heartbeat 3600 --log-level warn)"
want node-ws && echo "  node-ws   $NW_VERSION (single process)"
want nginx && echo "  nginx     $NGINX_VERSION (1 worker, Lua echo)"
echo "client (core $LOAD_CPU): $CLIENT_VERSION, interim (pushwire-load comes later)"
echo "load:    $CMD"
echo "         K in: $INFLIGHTS; $RUNS runs per server and scenario, server order rotating run by run"

RESULTS="$TMP/results.jsonl"
: >"$RESULTS"
printf '\n%-3s %-7s %-9s %9s %9s %9s %8s %10s %8s %7s %7s %7s\n' run conns×K server msg/s p50_us p99_us \
  srv_cpu ns/echo client others waited errors
NSRV=${#SERVER_LIST[@]}
for i in $(seq 1 "$RUNS"); do
  for k in "${INFLIGHT_LIST[@]}"; do
    for j in $(seq 0 $(( NSRV - 1 ))); do
      s=${SERVER_LIST[$(( (j + i - 1) % NSRV ))]}
      WAITED=0
      QUIET_PCT=null
      if [ "$QUIET_WAIT" -gt 0 ]; then
        wait_quiet
        [ "$WAITED" -gt 2 ] && log "waited ${WAITED}s for a quiet machine before run $i ($s, ${CONNS}×$k)"
      fi
      read -r -a pids <<<"${PIDS[$s]}"
      crc=0
      taskset -c "$LOAD_CPU" node "$CLIENT" --port "${PORT[$s]}" --connections "$CONNS" --inflight "$k" \
        --size "$SIZE" --warmup "$WARM_S" --duration "$DUR_S" --label "$s" \
        --server-pids "$(IFS=,; echo "${pids[*]}")" --clk-tck "$CLK_TCK" >"$TMP/run.json" 2>"$TMP/run.err" &
      CLIENT_PID=$!
      wait "$CLIENT_PID" || crc=$?
      CLIENT_PID=""
      [ -s "$TMP/run.json" ] || die "client failed against $s (exit $crc): $(cat "$TMP/run.err")"
      [ "$crc" = 0 ] || log "client reported errors against $s: $(cat "$TMP/run.err")"
      # Servers must still be alive.
      for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || die "$s (pid $pid) died during run $i"
      done
      node -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        r.run = +process.argv[2]; r.server = process.argv[3]; r.waited_s = +process.argv[4];
        r.quiet_pct_before = process.argv[5] === "null" ? null : +process.argv[5];
        console.log(JSON.stringify(r));
        const f = (v, d = 0) => v === null || v === undefined ? "-" : v.toFixed(d);
        const row = [String(r.run).padEnd(3), `${r.connections}×${r.inflight_per_connection}`.padEnd(7),
          r.server.padEnd(9), f(r.messages_per_sec).padStart(9), f(r.latency_us.p50).padStart(9),
          f(r.latency_us.p99).padStart(9), (f(r.server_cpu_pct) + "%").padStart(8),
          f(r.server_cpu_ns_per_echo).padStart(10), (f(r.client_cpu_pct) + "%" + (r.client_saturated ? "!" : " ")).padStart(8),
          (f(r.others_cpu_pct) + "%").padStart(7), (r.waited_s + "s").padStart(7), String(r.errors).padStart(7)];
        process.stderr.write(row.join(" ") + "\n");
      ' "$TMP/run.json" "$i" "$s" "$WAITED" "$QUIET_PCT" >>"$RESULTS" 2>"$TMP/row.txt" \
        || die "cannot read the client output: $(cat "$TMP/run.json")"
      cat "$TMP/row.txt"
    done
  done
done
echo "(client: % of its core; '!' = client saturated (>= 95 %): msg/s and latency then measure the client)"

# --- 6. medians, ratios, JSON ----------------------------------------------------
mkdir -p "$(dirname "$OUT")"
META=$(node -e 'console.log(JSON.stringify({
  benchmark: "WebSocket echo (/ws/echo), pushwire vs peers, interim Node ws client",
  interim: "load client scripts/bench-echo.mjs (Node.js + npm ws); pushwire-load replaces it later",
  date: process.argv[1],
  machine: { cores: +process.argv[2], cpu_model: process.argv[3], kernel: process.argv[4], mem_gib: +process.argv[5], clk_tck: +process.argv[6] },
  command: process.argv[7], client: process.argv[8],
  runs: +process.argv[9], duration_s: +process.argv[10], warmup_s: +process.argv[11], connections: +process.argv[12],
  inflight: process.argv[13].split(" ").map(Number), message_bytes: +process.argv[14],
  server_cpu: +process.argv[15], load_cpu: +process.argv[16], quiet_max_pct: +process.argv[17],
  quiet_wait_s: +process.argv[18], clean_max_pct: +process.argv[19],
  servers: Object.fromEntries(JSON.parse(process.argv[20]).filter((x) => x[1]).map((x) => [x[0], { version: x[1], port: +x[2] }])),
}))' "$DATE" "$(nproc)" "$CPU_MODEL" "$KERNEL" "$MEM_GB" "$CLK_TCK" "$CMD" "$CLIENT_VERSION" "$RUNS" "$DUR_S" \
  "$WARM_S" "$CONNS" "$INFLIGHTS" "$SIZE" "$SERVER_CPU" "$LOAD_CPU" "$QUIET_MAX" "$QUIET_WAIT" "$CLEAN_MAX" \
  "$(printf '[["pushwire","%s",%s],["node-ws","%s",%s],["nginx","%s",%s]]' "$PW_VERSION" "$PW_PORT" \
     "$NW_VERSION" "$NW_PORT" "$NGINX_VERSION" "$NG_PORT")")

node - "$RESULTS" "$OUT" "$META" <<'EOF'
const fs = require('fs');
const [, , resultsFile, outFile, metaJson] = process.argv;
const meta = JSON.parse(metaJson);
const rows = fs.readFileSync(resultsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const servers = Object.keys(meta.servers);
const scenarios = meta.inflight.map((k) => `${meta.connections}x${k}`);
const scen = (r) => `${r.connections}x${r.inflight_per_connection}`;
const median = (xs) => {
  xs = xs.filter((x) => x !== null && x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (!xs.length) return null;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
};
const fmt = (v, d = 0) => (v === null || v === undefined ? '-' : v.toFixed(d));
const r3 = (v) => (v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(3)));

const medians = {};
for (const sc of scenarios) {
  medians[sc] = {};
  for (const s of servers) {
    const rs = rows.filter((r) => scen(r) === sc && r.server === s);
    const clean = rs.filter((r) => r.others_cpu_pct !== null && r.others_cpu_pct < meta.clean_max_pct);
    medians[sc][s] = {
      runs: rs.length,
      messages_per_sec: median(rs.map((r) => r.messages_per_sec)),
      latency_p50_us: median(rs.map((r) => r.latency_us.p50)),
      latency_p99_us: median(rs.map((r) => r.latency_us.p99)),
      server_cpu_ns_per_echo: median(rs.map((r) => r.server_cpu_ns_per_echo)),
      server_cpu_pct: median(rs.map((r) => r.server_cpu_pct)),
      client_cpu_pct: median(rs.map((r) => r.client_cpu_pct)),
      others_cpu_pct: median(rs.map((r) => r.others_cpu_pct)),
      waited_s: median(rs.map((r) => r.waited_s)),
      client_saturated_runs: rs.filter((r) => r.client_saturated).length,
      errors: rs.reduce((a, r) => a + r.errors, 0),
      clean_runs: clean.length,
      clean_messages_per_sec: median(clean.map((r) => r.messages_per_sec)),
      clean_server_cpu_ns_per_echo: median(clean.map((r) => r.server_cpu_ns_per_echo)),
    };
  }
}

// Ratios pushwire / peer: of the medians, and the median of the run-by-run
// pairs (run i of pushwire against run i of the peer, measured minutes apart).
const peers = servers.filter((s) => s !== 'pushwire');
const ratios = {};
if (servers.includes('pushwire') && peers.length) {
  for (const sc of scenarios) {
    const pw = medians[sc].pushwire;
    const out = { vs: {} };
    for (const p of peers) {
      const pm = medians[sc][p];
      const pairs = (key) => {
        const a = rows.filter((r) => scen(r) === sc && r.server === 'pushwire');
        return a.map((ra) => {
          const rb = rows.find((r) => scen(r) === sc && r.server === p && r.run === ra.run);
          const x = key(ra), y = rb ? key(rb) : null;
          return x !== null && y ? x / y : null;
        }).filter((v) => v !== null);
      };
      const rp = pairs((r) => r.messages_per_sec);
      const np = pairs((r) => r.server_cpu_ns_per_echo);
      out.vs[p] = {
        messages_per_sec: r3(pw.messages_per_sec / pm.messages_per_sec),
        server_cpu_ns_per_echo: r3(pw.server_cpu_ns_per_echo / pm.server_cpu_ns_per_echo),
        latency_p99_us: r3(pw.latency_p99_us / pm.latency_p99_us),
        run_pairs_messages_per_sec: rp.map(r3),
        run_pairs_server_cpu_ns_per_echo: np.map(r3),
        median_of_run_pairs_messages_per_sec: r3(median(rp)),
        median_of_run_pairs_server_cpu_ns_per_echo: r3(median(np)),
      };
    }
    const bestRate = peers.reduce((b, p) => (medians[sc][p].messages_per_sec > medians[sc][b].messages_per_sec ? p : b));
    const bestCpu = peers.reduce((b, p) => (medians[sc][p].server_cpu_ns_per_echo < medians[sc][b].server_cpu_ns_per_echo ? p : b));
    out.best_peer_by_messages_per_sec = bestRate;
    out.messages_per_sec_vs_best = out.vs[bestRate].messages_per_sec;
    out.best_peer_by_server_cpu_ns_per_echo = bestCpu;
    out.server_cpu_ns_per_echo_vs_best = out.vs[bestCpu].server_cpu_ns_per_echo;
    ratios[sc] = out;
  }
}

const L = [];
L.push('');
L.push(`medians (${meta.runs} runs each)`);
L.push(`${'conns×K'.padEnd(8)} ${'server'.padEnd(9)} ${'msg/s'.padStart(9)} ${'p50_us'.padStart(9)} ${'p99_us'.padStart(9)} ${'ns/echo'.padStart(9)} ${'srv_cpu'.padStart(8)} ${'client'.padStart(8)} ${'others'.padStart(7)} ${'sat.runs'.padStart(8)} ${'errors'.padStart(6)}`);
for (const sc of scenarios) {
  for (const s of servers) {
    const m = medians[sc][s];
    L.push(`${sc.replace('x', '×').padEnd(8)} ${s.padEnd(9)} ${fmt(m.messages_per_sec).padStart(9)} ${fmt(m.latency_p50_us).padStart(9)} ${fmt(m.latency_p99_us).padStart(9)} ${fmt(m.server_cpu_ns_per_echo).padStart(9)} ${(fmt(m.server_cpu_pct) + '%').padStart(8)} ${(fmt(m.client_cpu_pct) + '%').padStart(8)} ${(fmt(m.others_cpu_pct) + '%').padStart(7)} ${`${m.client_saturated_runs}/${m.runs}`.padStart(8)} ${String(m.errors).padStart(6)}`);
  }
}
L.push(`(sat.runs: runs in which the client used >= 95 % of its core; clean runs = others < ${meta.clean_max_pct} %)`);
for (const sc of scenarios) {
  if (!ratios[sc]) continue;
  const o = ratios[sc];
  L.push('');
  L.push(`pushwire / peer, ${sc.replace('x', '×')}     msg/s (medians | run pairs)        CPU ns/echo (medians | run pairs)   p99`);
  for (const p of peers) {
    const v = o.vs[p];
    L.push(`  vs ${p.padEnd(8)}  ${fmt(v.messages_per_sec, 3).padStart(6)} | ${fmt(v.median_of_run_pairs_messages_per_sec, 3)} (${v.run_pairs_messages_per_sec.join(' ')})`.padEnd(64) +
      `${fmt(v.server_cpu_ns_per_echo, 3).padStart(6)} | ${fmt(v.median_of_run_pairs_server_cpu_ns_per_echo, 3)} (${v.run_pairs_server_cpu_ns_per_echo.join(' ')})  ${fmt(v.latency_p99_us, 3)}`);
  }
  L.push(`  best peer by msg/s: ${o.best_peer_by_messages_per_sec} -> pushwire ${fmt(o.messages_per_sec_vs_best, 3)}×; by CPU ns/echo: ${o.best_peer_by_server_cpu_ns_per_echo} -> pushwire ${fmt(o.server_cpu_ns_per_echo_vs_best, 3)}×`);
}
L.push('(msg/s above 1: pushwire echoes more; CPU ns/echo below 1: pushwire spends less per echo)');
const sat = rows.filter((r) => r.client_saturated).length;
L.push(sat
  ? `CLIENT SATURATED in ${sat} of ${rows.length} runs: there msg/s and latency are capped by the Node client; compare CPU ns/echo.`
  : `client not saturated in any run (max client CPU ${fmt(Math.max(...rows.map((r) => r.client_cpu_pct ?? 0)), 1)}% of its core).`);
console.log(L.join('\n'));

fs.writeFileSync(outFile, JSON.stringify({ ...meta, results: rows, medians, ratios_pushwire_over_peer: ratios,
  client_saturated_runs: sat }, null, 2) + '\n');
EOF
log "wrote $OUT"
