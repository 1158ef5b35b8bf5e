#!/usr/bin/env bash
# The ceilings of issue 9, measured before and after in one run: the same
# pushwire-load (this tree's) against two pushwire builds, BEFORE (the
# commit before the ceilings, 59ab69f) and AFTER (this tree), one case after
# another, the two servers back to back for each case, each case REPEAT
# times. Server pinned to core SERVER_CPU under setsid (an autogroup of its
# own, as scripts/bench.sh does), load pinned to LOAD_CPU; a fresh server
# for every run, so RSS starts from a clean process.
#
#   flood-1mib      1,500 x 1 MiB to one topic (server defaults)
#   flood-1mib-64   the same with --history-bytes 64MiB (AFTER only: BEFORE
#                   has no such flag)
#   flood-lf        200 x 1 MiB of line feeds to one topic
#   flood-topics    50,000 topics, one 64-byte publish each
#   flood-topics-150k  150,000 of them: past --max-topics (100,000)
#   per-event       100,000 x 64 B over 100 topics, --history 1000: every
#                   event kept; RssAnon growth per event
#   stall-multi     one 1 MiB publish to a, 2,000 /topics/a,b SSE streams:
#                   peak RSS, /plaintext latency meanwhile; the machine's TCP
#                   drop and retransmit-timeout counters (nstat) over the run
#   stall-multi-1000  the same to 1,000 streams (1 GB in flight, not 2)
#   teardown        16,000 SSE streams of /topics/t0,...,t15 leave at once:
#                   time until /stats counts them gone, /plaintext meanwhile
#                   (the probes on the server's core: on the load's, the
#                   subscribers' exit, 16,000 closes in the kernel, delays them)
#
# Every run stops by itself (pushwire-load bounds each phase); loopback only.
# Env: BEFORE (the BEFORE build's directory, default ../wt-before), CASES (all),
#      REPEAT (2), OUT (target/bench-ceilings), SERVER_CPU (0), LOAD_CPU (1),
#      BASE_PORT (18600), PASSES (0; 1: record the server's loop passes with
#      perf's epoll_wait tracepoints during stall-multi and teardown, and write
#      the longest to OUT/CASE-SERVER-REP.passes.txt, see scripts/loop_passes.py).
# Usage: git worktree add ../wt-before 59ab69f && (cd ../wt-before && cargo build --release)
#        scripts/bench-ceilings.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BEFORE=${BEFORE:-$ROOT/../wt-before}
REPEAT=${REPEAT:-2}
OUT=${OUT:-$ROOT/target/bench-ceilings}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${BASE_PORT:-18600}
PASSES=${PASSES:-0}
TOPICS16=$(seq -s, -f 't%g' 0 15)
# name | servers | server arguments | pushwire-load arguments
ALL_CASES="
flood-1mib|before after||flood --publishes 1500 --size 1048576
flood-1mib-64|after|--history-bytes 64MiB|flood --publishes 1500 --size 1048576
flood-lf|before after||flood --publishes 200 --size 1048576 --body lf
flood-topics|before after||flood --publishes 50000 --spread 50000 --size 64
flood-topics-150k|before after||flood --publishes 150000 --spread 150000 --size 64
per-event|before after|--history 1000|flood --publishes 100000 --spread 100 --size 64
stall-multi|before after||stall --proto sse --topics a,b --subs 2000 --size 1048576 --publishes 1 --probes 4 --probe-every 5
stall-multi-1000|before after||stall --proto sse --topics a,b --subs 1000 --size 1048576 --publishes 1 --probes 4 --probe-every 5
teardown|before after|--max-conns 20000|teardown --proto sse --topics $TOPICS16 --subs 16000 --addrs 4 --probes 4 --probe-every 5 --probe-cpu $SERVER_CPU"
CASES=${CASES:-$(echo "$ALL_CASES" | cut -d'|' -f1 | xargs)}

log() { echo "bench-ceilings: $*" >&2; }
die() { echo "bench-ceilings: ERROR: $*" >&2; exit 1; }

SERVER_PID=""
PERF_PID=""
stop_perf() {
  if [ -n "$PERF_PID" ]; then
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
  fi
  PERF_PID=""
}
stop_server() {
  stop_perf
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    # No drain to wait for: a second signal exits at once.
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    sleep 0.2
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  exit $rc
}
trap cleanup EXIT INT TERM

log "building pushwire and pushwire-load (release)"
(cd "$ROOT" && cargo build --release --quiet -p pushwire -p pushwire-load)
[ -x "$BEFORE/target/release/pushwire" ] || die "no BEFORE build at $BEFORE/target/release/pushwire"
mkdir -p "$OUT/bin"
cp "$ROOT/target/release/pushwire" "$OUT/bin/pushwire-after"
cp "$BEFORE/target/release/pushwire" "$OUT/bin/pushwire-before"
cp "$ROOT/target/release/pushwire-load" "$OUT/bin/pushwire-load"
LOAD="$OUT/bin/pushwire-load"

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "after: $(git -C "$ROOT" rev-parse --short HEAD) ($(git -C "$ROOT" log -1 --format=%s | cut -c1-60))"
  echo "before: $(git -C "$BEFORE" rev-parse --short HEAD)"
  echo "kernel: $(uname -r); cpus: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}'); tcp_mem: $(cat /proc/sys/net/ipv4/tcp_mem)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

start_server() { # which port args...
  local which=$1 port=$2; shift 2
  setsid taskset -c "$SERVER_CPU" "$OUT/bin/pushwire-$which" --listen "0.0.0.0:$port" \
    --log-level warn "$@" >"$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  die "pushwire-$which did not start on $port: $(cat "$OUT/server.log")"
}

for rep in $(seq 1 "$REPEAT"); do
  for name in $CASES; do
    line=$(echo "$ALL_CASES" | grep "^$name|") || die "unknown case $name"
    IFS='|' read -r _ servers server_args load_args <<<"$line"
    for which in $servers; do
      PORT=$((PORT + 1))
      # shellcheck disable=SC2086
      start_server "$which" "$PORT" $server_args
      log "$name, $which, run $rep (pid $SERVER_PID, port $PORT)"
      trace=""
      if [ "$PASSES" = 1 ] && case $name in stall-*|teardown) true ;; *) false ;; esac; then
        trace="$OUT/$name-$which-$rep.perf"
        perf record -q -e syscalls:sys_enter_epoll_wait -e syscalls:sys_exit_epoll_wait \
          -p "$SERVER_PID" -o "$trace" 2>/dev/null &
        PERF_PID=$!
        sleep 0.5
      fi
      case $name in stall-*) nstat -n >/dev/null 2>&1 || true ;; esac
      # shellcheck disable=SC2086
      timeout 180 taskset -c "$LOAD_CPU" "$LOAD" $load_args --target "127.0.0.1:$PORT" \
        --server-pid "$SERVER_PID" --name "$which" --quiet \
        --json "$OUT/$name-$which-$rep.json" || log "$name $which run $rep: pushwire-load failed (exit $?)"
      case $name in stall-*)
        nstat 2>/dev/null | grep -E 'TCPTimeouts|TCPRcvQDrop|TCPMemoryPressures ' \
          > "$OUT/$name-$which-$rep.nstat.txt" || true ;;
      esac
      if [ -n "$trace" ]; then
        stop_perf
        perf script -i "$trace" -F time,event,trace 2>/dev/null | python3 "$ROOT/scripts/loop_passes.py" 5 \
          > "$OUT/$name-$which-$rep.passes.txt"
        rm -f "$trace"
        log "$name $which run $rep: $(head -2 "$OUT/$name-$which-$rep.passes.txt" | xargs)"
      fi
      stop_server
      sleep 1
    done
  done
done

python3 "$ROOT/scripts/bench_ceilings_table.py" "$OUT" | tee "$OUT/table.md"
