#!/usr/bin/env bash
# RSS under connection churn (docs/BENCHMARKS.md, "RSS under churn").
#
# Starts a release pushwire on core 0 (setsid, as bench.sh does), runs
# scripts/churn.py on core 1 for DURATION seconds, and writes to
# target/churn/NAME/:
#   samples.jsonl  VmRSS, RssAnon, VmHWM and /stats counts every 5 s
#   malloc.txt     glibc's malloc_stats() (system bytes against bytes in use)
#                  at each of MALLOC_AT (seconds), by gdb: a pause of ~0.5 s
#   end.txt        after the run with nothing open: RSS, malloc_stats, then
#                  malloc_trim(0) and RSS again
# Needs gdb and ptrace permission for the malloc figures (the rest works
# without). Loopback only; stops by itself. Extra arguments go to churn.py;
# scripts/churn_report.py turns samples.jsonl files into the table and a plot.
#
#   scripts/churn.sh                                   # 15 min, the defaults
#   NAME=fast DURATION=600 scripts/churn.sh --streams 2000 --lifetime 1.5
#   BIN=path/to/other/pushwire NAME=before scripts/churn.sh
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=${NAME:-default}
DURATION=${DURATION:-900}
PORT=${PORT:-18095}
MALLOC_AT=${MALLOC_AT:-"5 60 120 180 300 600 899"}
SERVER_ARGS=${SERVER_ARGS:-}
BIN=${BIN:-target/release/pushwire}
OUT=target/churn/$NAME
mkdir -p "$OUT"
[ -x "$BIN" ] || cargo build --release --quiet
# A copy, so that a rebuild during the run leaves gdb the binary's symbols.
cp "$BIN" "$OUT/pushwire"
BIN=$OUT/pushwire

# shellcheck disable=SC2086
setsid taskset -c 0 "$BIN" --listen "127.0.0.1:$PORT" --log-level warn $SERVER_ARGS \
    2>"$OUT/server.err" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true' EXIT
sleep 0.5

malloc_stats() {
    echo "== $1" >>"$OUT/malloc.txt"
    local before
    before=$(wc -c <"$OUT/server.err")
    gdb -q -batch "$BIN" -p "$PID" -ex 'call (void)malloc_stats()' >/dev/null 2>&1 || true
    sleep 0.2
    tail -c +"$((before + 1))" "$OUT/server.err" >>"$OUT/malloc.txt"
    grep -E 'VmRSS|RssAnon' "/proc/$PID/status" >>"$OUT/malloc.txt"
}

: >"$OUT/malloc.txt"
START=$(date +%s)
taskset -c 1 scripts/churn.py --target "127.0.0.1:$PORT" --server-pid "$PID" --duration "$DURATION" \
    --out "$OUT/samples.jsonl" -q "$@" &
LOAD=$!
for at in $MALLOC_AT; do
    [ "$at" -lt "$DURATION" ] || continue
    while [ $(($(date +%s) - START)) -lt "$at" ]; do sleep 1; done
    kill -0 "$LOAD" 2>/dev/null || break
    malloc_stats "t=${at}s"
done
wait "$LOAD"

malloc_stats "end"
sed -n '/== end/,$p' "$OUT/malloc.txt" >"$OUT/end.txt"
gdb -q -batch "$BIN" -p "$PID" -ex 'call (int)malloc_trim(0)' >/dev/null 2>&1 || true
{
    echo "== after malloc_trim(0)"
    grep -E 'VmRSS|RssAnon' "/proc/$PID/status"
} >>"$OUT/end.txt"
tail -n 1 "$OUT/samples.jsonl"
cat "$OUT/end.txt"
