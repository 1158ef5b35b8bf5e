#!/usr/bin/env bash
# GET /plaintext: pushwire against nginx, side by side on the same machine.
#
#   1. Installs what is missing, and nothing twice: wrk, and for the nginx peer
#      nginx libnginx-mod-nchan libnginx-mod-http-lua lua-nginx-websocket
#      (apt-get update only when the package lists do not know one of them;
#      a temporary policy-rc.d keeps the system nginx from starting).
#   2. Builds pushwire in release.
#   3. Starts both servers pinned to core 0 (nginx: one worker, master and
#      worker pinned), checks that both answer, prints their response sizes.
#   4. A warm-up run per server, then RUNS runs per server, alternating
#      (pushwire, nginx, pushwire, nginx, ...) so drift hits both alike. wrk
#      runs pinned to core 1: one thread, CONNS keep-alive connections.
#   5. Per run: requests/s (wrk), server CPU time during the run (utime+stime
#      from /proc; nginx: master + workers) and so CPU ns per request, latency
#      p50/p99, and wrk's own CPU use (is the load generator the bottleneck?).
#   6. Prints a table, the medians and the ratios pushwire/nginx, and writes
#      everything as JSON to OUT.
#
#   7. Ratios two ways: of the medians, and the median of the per-run pair
#      ratios (run i of pushwire against run i of nginx, which ran next to it:
#      on a shared machine the pair ratio is the steadier one).
#
# Shared machines: before each run the script waits (up to QUIET_WAIT s) until
# other work uses less than QUIET_MAX % of one core, and every run reports the
# machine's other CPU use during it ("others"): a run with a large figure there
# measured the neighbours as much as the server.
#
# Env: RUNS (5), DURATION (10s), CONNS (64), WARMUP (3s), OUT
#      (target/bench-plaintext.json), PUSHWIRE_PORT (18181), NGINX_PORT (18182),
#      SERVER_CPU (0), LOAD_CPU (1), QUIET_MAX (10), QUIET_WAIT (60; 0 = do not
#      wait), CLEAN_MAX (10: runs whose "others" stayed below it are "clean" and
#      get medians of their own), SKIP_BUILD=1 to use the existing binary.
# Usage: scripts/bench-plaintext.sh        (Ctrl-C stops everything it started)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="$ROOT/../shared/tools/peers/nchan"
RUNS=${RUNS:-5}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
WARMUP=${WARMUP:-3s}
OUT=${OUT:-$ROOT/target/bench-plaintext.json}
PW_PORT=${PUSHWIRE_PORT:-18181}
NG_PORT=${NGINX_PORT:-18182}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
QUIET_MAX=${QUIET_MAX:-10}
QUIET_WAIT=${QUIET_WAIT:-60}
CLEAN_MAX=${CLEAN_MAX:-10}
PW_BIN="$ROOT/target/release/pushwire"
APT_PACKAGES=(wrk nginx libnginx-mod-nchan libnginx-mod-http-lua lua-nginx-websocket)

log() { echo "bench-plaintext: $*" >&2; }
die() { echo "bench-plaintext: ERROR: $*" >&2; exit 1; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$RUNS'"
[ -x "$PEER/start.sh" ] || die "nginx peer not found at $PEER (expected ../shared/tools/peers/nchan)"
PEER="$(cd "$PEER" && pwd)"

# --- cleanup: everything this script started, also on Ctrl-C ---------------
TMP="$(mktemp -d)"
PW_PID=""
NG_STARTED=0
WRK_PID=""
POLICY_CREATED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$WRK_PID" ] && kill -0 "$WRK_PID" 2>/dev/null; then
    kill -TERM "$WRK_PID" 2>/dev/null || true
    wait "$WRK_PID" 2>/dev/null || true
  fi
  if [ -n "$PW_PID" ] && kill -0 "$PW_PID" 2>/dev/null; then
    kill -TERM "$PW_PID" 2>/dev/null || true
    wait "$PW_PID" 2>/dev/null || true
  fi
  if [ "$NG_STARTED" = 1 ]; then
    "$PEER/stop.sh" "$NG_PORT" >/dev/null || true
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
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
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
  # that answers 101 ("action forbidden") stops that. Removed again on exit
  # only if this script created it.
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
for cmd in wrk nginx taskset curl getconf; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found"
done
[ "$(nproc)" -gt "$(( SERVER_CPU > LOAD_CPU ? SERVER_CPU : LOAD_CPU ))" ] \
  || die "need cores $SERVER_CPU and $LOAD_CPU; nproc is $(nproc)"

# --- 2. build -------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet --bin pushwire)
fi
[ -x "$PW_BIN" ] || die "$PW_BIN missing (cargo build --release)"

# --- helpers -------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)

# utime+stime (clock ticks) summed over the given PIDs. Fields 14 and 15 of
# /proc/PID/stat; the command name (field 2) may hold spaces, so split after ')'.
cpu_ticks() {
  local sum=0 pid line
  local -a f
  for pid in "$@"; do
    read -r line <"/proc/$pid/stat" || die "process $pid is gone"
    read -r -a f <<<"${line##*) }"
    sum=$(( sum + f[11] + f[12] ))
  done
  echo "$sum"
}

# cutime+cstime (clock ticks) of this shell: the CPU of the children it has
# waited for. The difference around one wrk run is wrk's own CPU time.
# (`read` with a redirection is a builtin: no fork, so $$ is this shell.)
child_ticks() {
  local line
  local -a f
  read -r line <"/proc/$$/stat"
  read -r -a f <<<"${line##*) }"
  echo $(( f[13] + f[14] ))
}

# Busy ticks of the whole machine (all cores) from the first line of /proc/stat:
# user nice system irq softirq steal. Minus the server and wrk, what is left is
# other work on this shared machine during the run (how much to trust it).
sys_busy() {
  local cpu user nice system idle iowait irq softirq steal rest
  read -r cpu user nice system idle iowait irq softirq steal rest </proc/stat
  : "$cpu" "$idle" "$iowait" "$rest"
  echo $(( user + nice + system + irq + softirq + steal ))
}

# Waits until the machine's busy time over 2 s is below QUIET_MAX % of one
# core (our servers are idle then), for at most QUIET_WAIT seconds. Sets WAITED.
WAITED=0
wait_quiet() {
  local start b0 b1 pct
  start=$SECONDS
  while :; do
    b0=$(sys_busy)
    sleep 2
    b1=$(sys_busy)
    pct=$(( 100 * (b1 - b0) / CLK_TCK / 2 ))
    WAITED=$(( SECONDS - start ))
    [ "$pct" -lt "$QUIET_MAX" ] && return 0
    if [ "$WAITED" -ge "$QUIET_WAIT" ]; then
      log "machine still busy (${pct}% of a core) after ${WAITED}s; running anyway"
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

# Seconds from a wrk duration ("10s", "1m", "30").
seconds() {
  case $1 in
    *ms) die "DURATION in ms is too short" ;;
    *s) echo "${1%s}" ;;
    *m) echo $(( ${1%m} * 60 )) ;;
    *h) echo $(( ${1%h} * 3600 )) ;;
    *) echo "$1" ;;
  esac
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- 3. servers -----------------------------------------------------------------
for port in "$PW_PORT" "$NG_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is already in use (set PUSHWIRE_PORT / NGINX_PORT)"
  fi
done

log "starting pushwire on $PW_PORT (core $SERVER_CPU)"
# setsid: a session of its own, as nginx has (it daemonizes). With the kernel's
# autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled) CPU is shared
# between sessions first; left in this script's session, pushwire would share
# one group's weight with wrk and get about half of nginx's CPU share whenever
# another program wants core 0 too. (setsid execs in place here: we are not a
# process group leader, so $! is pushwire's PID; checked below.)
setsid taskset -c "$SERVER_CPU" "$PW_BIN" --listen "127.0.0.1:$PW_PORT" --log-level warn \
  2>"$TMP/pushwire.log" &
PW_PID=$!
wait_port "$PW_PORT" || die "pushwire did not start: $(cat "$TMP/pushwire.log")"
[ "$(readlink "/proc/$PW_PID/exe")" = "$(readlink -f "$PW_BIN")" ] \
  || die "process $PW_PID is not $PW_BIN (setsid forked?)"

log "starting nginx on $NG_PORT (1 worker, core $SERVER_CPU)"
NG_STARTED=1
NG_MASTER=$("$PEER/start.sh" "$NG_PORT" 1)
[[ $NG_MASTER =~ ^[0-9]+$ ]] || die "nginx start.sh printed '$NG_MASTER', not a PID"
NG_WORKERS=()
for _ in $(seq 1 50); do
  mapfile -t NG_WORKERS < <(pgrep -P "$NG_MASTER" || true)
  [ "${#NG_WORKERS[@]}" -gt 0 ] && break
  sleep 0.1
done
[ "${#NG_WORKERS[@]}" -gt 0 ] || die "nginx master $NG_MASTER has no workers"
NG_PIDS=("$NG_MASTER" "${NG_WORKERS[@]}")
for pid in "${NG_PIDS[@]}"; do
  taskset -apc "$SERVER_CPU" "$pid" >/dev/null
done
wait_port "$NG_PORT" || die "nginx does not answer on $NG_PORT"

# Same answer from both? Status, body, and the bytes on the wire per response.
declare -A URL BYTES HEAD PIDS
URL[pushwire]="http://127.0.0.1:$PW_PORT/plaintext"
URL[nginx]="http://127.0.0.1:$NG_PORT/plaintext"
PIDS[pushwire]="$PW_PID"
PIDS[nginx]="${NG_PIDS[*]}"
for s in pushwire nginx; do
  curl -si --max-time 5 "${URL[$s]}" >"$TMP/$s.resp" || die "$s: curl ${URL[$s]} failed"
  head -n1 "$TMP/$s.resp" | grep -q ' 200 ' || die "$s: not 200: $(head -n1 "$TMP/$s.resp")"
  [ "$(tail -c 13 "$TMP/$s.resp")" = "Hello, World!" ] || die "$s: body is not 'Hello, World!'"
  BYTES[$s]=$(wc -c <"$TMP/$s.resp")
  HEAD[$s]=$(sed -n '/^\r$/q;p' "$TMP/$s.resp" | tr -d '\r' | paste -sd'|' -)
  log "$s response: ${BYTES[$s]} bytes: ${HEAD[$s]}"
done

# --- 4. runs --------------------------------------------------------------------
# One wrk run against server $1 for duration $2; sets RESULT to
# "rps requests cpu_s cpu_ns_per_req p50_us p99_us wrk_cpu_pct server_cpu_pct other_cpu_pct errors"
# (CPU percentages are of one core; other = the rest of the machine's busy time).
# Runs in this shell (not in a pipe or $(...)): wrk must be this shell's child
# for child_ticks, and WRK_PID must be visible to cleanup.
RESULT=""
run_once() {
  local s=$1 dur=$2 c0 c1 w0 w1 b0 b1 secs
  local -a pids
  read -r -a pids <<<"${PIDS[$s]}"
  secs=$(seconds "$dur")
  b0=$(sys_busy)
  c0=$(cpu_ticks "${pids[@]}")
  w0=$(child_ticks)
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$dur" --latency "${URL[$s]}" >"$TMP/wrk.out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || die "wrk failed against $s: $(cat "$TMP/wrk.out")"
  WRK_PID=""
  w1=$(child_ticks)
  c1=$(cpu_ticks "${pids[@]}")
  b1=$(sys_busy)
  RESULT=$(awk -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" -v b0="$b0" -v b1="$b1" -v hz="$CLK_TCK" -v secs="$secs" '
    function us(v) {
      if (v ~ /us$/) return v + 0
      if (v ~ /ms$/) return v * 1000
      if (v ~ /s$/) return v * 1000000
      return v + 0
    }
    / requests in /      { requests = $1 }
    /^Requests\/sec:/    { rps = $2 }
    $1 == "50%"          { p50 = us($2) }
    $1 == "99%"          { p99 = us($2) }
    /^  Socket errors:/  { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx/     { errors += $NF }
    END {
      if (requests == 0) { print "no requests" > "/dev/stderr"; exit 1 }
      cpu = (c1 - c0) / hz
      other = ((b1 - b0) - (c1 - c0) - (w1 - w0)) / hz
      if (other < 0) other = 0
      printf "%.0f %d %.2f %.0f %.0f %.0f %.0f %.0f %.0f %d\n", rps, requests, cpu, cpu * 1e9 / requests,
        p50, p99, 100 * (w1 - w0) / hz / secs, 100 * cpu / secs, 100 * other / secs, errors
    }' "$TMP/wrk.out") || die "cannot read wrk's output: $(cat "$TMP/wrk.out")"
}

CMD="taskset -c $LOAD_CPU wrk -t1 -c$CONNS -d$DURATION --latency http://127.0.0.1:PORT/plaintext"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
KERNEL=$(uname -r)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
NGINX_VERSION=$(nginx -v 2>&1 | sed 's/^nginx version: //')
WRK_VERSION=$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }' || true)
PW_VERSION=$(sed -n 's/^\(pushwire [^ ]*\) listening.*/\1/p' "$TMP/pushwire.log" | head -n1)

echo "machine: $(nproc) cores, $CPU_MODEL, kernel $KERNEL, $DATE"
echo "servers: $PW_VERSION on core $SERVER_CPU; $NGINX_VERSION (1 worker) on core $SERVER_CPU"
echo "load:    $CMD  (wrk $WRK_VERSION), $RUNS runs per server, alternating"
echo "response bytes (curl -si): pushwire ${BYTES[pushwire]}, nginx ${BYTES[nginx]}"

for s in pushwire nginx; do
  log "warm-up: $s for $WARMUP"
  run_once "$s" "$WARMUP"
done

printf '\n%-4s %-9s %10s %10s %7s %10s %8s %8s %7s %7s %7s %6s\n' run server req/s requests cpu_s \
  cpu_ns/req p50_us p99_us wrk_cpu srv_cpu others errors
ROWS=()
for i in $(seq 1 "$RUNS"); do
  for s in pushwire nginx; do
    if [ "$QUIET_WAIT" -gt 0 ]; then
      wait_quiet
      [ "$WAITED" -gt 2 ] && log "waited ${WAITED}s for a quiet machine before run $i ($s)"
    fi
    run_once "$s" "$DURATION"
    read -r rps req cpu ns p50 p99 wcpu scpu ocpu err <<<"$RESULT"
    printf '%-4s %-9s %10s %10s %7s %10s %8s %8s %6s%% %6s%% %6s%% %6s\n' "$i" "$s" "$rps" "$req" "$cpu" \
      "$ns" "$p50" "$p99" "$wcpu" "$scpu" "$ocpu" "$err"
    ROWS+=("$i $s $rps $req $cpu $ns $p50 $p99 $wcpu $scpu $ocpu $err")
  done
done

# --- 6. medians, ratios, JSON ----------------------------------------------------
col() { # server, column (1-based in "rps req cpu ns p50 p99 wcpu scpu ocpu err")
  local row
  for row in "${ROWS[@]}"; do
    read -r -a f <<<"$row"
    [ "${f[1]}" = "$1" ] && echo "${f[$(( $2 + 1 ))]}"
  done
  return 0
}
declare -A MED
for s in pushwire nginx; do
  MED[$s.rps]=$(col "$s" 1 | median)
  MED[$s.ns]=$(col "$s" 4 | median)
  MED[$s.p99]=$(col "$s" 6 | median)
  MED[$s.wcpu]=$(col "$s" 7 | median)
  MED[$s.scpu]=$(col "$s" 8 | median)
  MED[$s.ocpu]=$(col "$s" 9 | median)
  # Clean runs only: the rest of the machine stayed below CLEAN_MAX % of a core.
  mapfile -t clean < <(paste -d' ' <(col "$s" 1) <(col "$s" 4) <(col "$s" 9) \
    | awk -v max="$CLEAN_MAX" '$3 < max { print $1, $2 }')
  MED[$s.nclean]=${#clean[@]}
  if [ "${#clean[@]}" -gt 0 ]; then
    MED[$s.rps_clean]=$(printf '%s\n' "${clean[@]}" | awk '{ print $1 }' | median)
    MED[$s.ns_clean]=$(printf '%s\n' "${clean[@]}" | awk '{ print $2 }' | median)
  else
    MED[$s.rps_clean]=null
    MED[$s.ns_clean]=null
  fi
done
RATIO_RPS=$(awk -v a="${MED[pushwire.rps]}" -v b="${MED[nginx.rps]}" 'BEGIN { printf "%.3f", a / b }')
RATIO_NS=$(awk -v a="${MED[pushwire.ns]}" -v b="${MED[nginx.ns]}" 'BEGIN { printf "%.3f", a / b }')
# Per-run pair ratios: pushwire run i over nginx run i.
pair_ratios() { paste -d' ' <(col pushwire "$1") <(col nginx "$1") | awk '{ printf "%.3f\n", $1 / $2 }'; }
mapfile -t PAIR_RPS < <(pair_ratios 1)
mapfile -t PAIR_NS < <(pair_ratios 4)
PAIR_RPS_MED=$(printf '%s\n' "${PAIR_RPS[@]}" | median | xargs printf '%.3f')
PAIR_NS_MED=$(printf '%s\n' "${PAIR_NS[@]}" | median | xargs printf '%.3f')
clean_ratio() {
  if [ "${MED[pushwire.$1]}" = null ] || [ "${MED[nginx.$1]}" = null ]; then
    echo null
  else
    awk -v a="${MED[pushwire.$1]}" -v b="${MED[nginx.$1]}" 'BEGIN { printf "%.3f", a / b }'
  fi
}
CLEAN_RPS=$(clean_ratio rps_clean)
CLEAN_NS=$(clean_ratio ns_clean)

echo
printf '%-9s %12s %14s %10s %10s %10s %10s\n' median req/s cpu_ns/req p99_us wrk_cpu srv_cpu others
for s in pushwire nginx; do
  printf '%-9s %12s %14s %10s %9s%% %9s%% %9s%%\n' "$s" "${MED[$s.rps]}" "${MED[$s.ns]}" "${MED[$s.p99]}" \
    "${MED[$s.wcpu]}" "${MED[$s.scpu]}" "${MED[$s.ocpu]}"
done
echo
echo "pushwire/nginx                  of medians   median of run pairs   (run pairs)"
echo "  req/s:                        $RATIO_RPS        $PAIR_RPS_MED               (${PAIR_RPS[*]})"
echo "  CPU per request:              $RATIO_NS        $PAIR_NS_MED               (${PAIR_NS[*]})"
echo "  clean runs only (others < $CLEAN_MAX%: pushwire ${MED[pushwire.nclean]}, nginx ${MED[nginx.nclean]}):"
echo "    medians req/s: pushwire ${MED[pushwire.rps_clean]}, nginx ${MED[nginx.rps_clean]}, ratio $CLEAN_RPS"
echo "    medians CPU ns/req: pushwire ${MED[pushwire.ns_clean]}, nginx ${MED[nginx.ns_clean]}, ratio $CLEAN_NS"
echo "(req/s above 1: pushwire serves more; CPU per request below 1: pushwire spends less)"

mkdir -p "$(dirname "$OUT")"
{
  printf '{\n'
  printf '  "benchmark": "GET /plaintext, pushwire vs nginx",\n'
  printf '  "date": "%s",\n' "$DATE"
  printf '  "machine": { "cores": %s, "cpu_model": "%s", "kernel": "%s", "clk_tck": %s },\n' \
    "$(nproc)" "$CPU_MODEL" "$KERNEL" "$CLK_TCK"
  printf '  "command": "%s",\n' "$CMD"
  printf '  "runs": %s, "duration": "%s", "connections": %s, "server_cpu": %s, "load_cpu": %s,\n' \
    "$RUNS" "$DURATION" "$CONNS" "$SERVER_CPU" "$LOAD_CPU"
  printf '  "servers": {\n'
  printf '    "pushwire": { "version": "%s", "port": %s, "response_bytes": %s, "response_head": "%s" },\n' \
    "$PW_VERSION" "$PW_PORT" "${BYTES[pushwire]}" "${HEAD[pushwire]}"
  printf '    "nginx": { "version": "%s", "workers": 1, "port": %s, "response_bytes": %s, "response_head": "%s" }\n' \
    "$NGINX_VERSION" "$NG_PORT" "${BYTES[nginx]}" "${HEAD[nginx]}"
  printf '  },\n  "results": [\n'
  n=${#ROWS[@]}
  for k in "${!ROWS[@]}"; do
    read -r i s rps req cpu ns p50 p99 wcpu scpu ocpu err <<<"${ROWS[$k]}"
    sep=","; [ $(( k + 1 )) -eq "$n" ] && sep=""
    printf '    { "run": %s, "server": "%s", "requests_per_sec": %s, "requests": %s, "server_cpu_s": %s, ' \
      "$i" "$s" "$rps" "$req" "$cpu"
    printf '"cpu_ns_per_request": %s, "latency_p50_us": %s, "latency_p99_us": %s, ' "$ns" "$p50" "$p99"
    printf '"wrk_cpu_pct": %s, "server_cpu_pct": %s, "other_cpu_pct": %s, "errors": %s }%s\n' \
      "$wcpu" "$scpu" "$ocpu" "$err" "$sep"
  done
  printf '  ],\n  "medians": {\n'
  for s in pushwire nginx; do
    sep=","; [ "$s" = nginx ] && sep=""
    printf '    "%s": { "requests_per_sec": %s, "cpu_ns_per_request": %s, "latency_p99_us": %s, ' \
      "$s" "${MED[$s.rps]}" "${MED[$s.ns]}" "${MED[$s.p99]}"
    printf '"wrk_cpu_pct": %s, "server_cpu_pct": %s, "other_cpu_pct": %s, ' \
      "${MED[$s.wcpu]}" "${MED[$s.scpu]}" "${MED[$s.ocpu]}"
    printf '"clean_runs": %s, "clean_requests_per_sec": %s, "clean_cpu_ns_per_request": %s }%s\n' \
      "${MED[$s.nclean]}" "${MED[$s.rps_clean]}" "${MED[$s.ns_clean]}" "$sep"
  done
  printf '  },\n  "ratios_pushwire_over_nginx": {\n'
  printf '    "of_medians": { "requests_per_sec": %s, "cpu_ns_per_request": %s },\n' "$RATIO_RPS" "$RATIO_NS"
  printf '    "median_of_run_pairs": { "requests_per_sec": %s, "cpu_ns_per_request": %s },\n' \
    "$PAIR_RPS_MED" "$PAIR_NS_MED"
  printf '    "of_clean_medians": { "other_cpu_pct_below": %s, "requests_per_sec": %s, "cpu_ns_per_request": %s },\n' \
    "$CLEAN_MAX" "$CLEAN_RPS" "$CLEAN_NS"
  printf '    "run_pairs": { "requests_per_sec": [%s], "cpu_ns_per_request": [%s] }\n  }\n}\n' \
    "$(IFS=,; echo "${PAIR_RPS[*]}")" "$(IFS=,; echo "${PAIR_NS[*]}")"
} >"$OUT"
log "wrote $OUT"
