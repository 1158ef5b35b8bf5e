#!/usr/bin/env bash
# Autobahn|Testsuite cases 1-10 against /ws/echo, compared with the results
# committed in tests/autobahn/expected.json: a case that does worse than
# expected fails the run (a regression); a case that does better is reported
# so the expected file can be raised.
#
#   scripts/autobahn.sh            run and compare
#   scripts/autobahn.sh --update   run and write the results as expected
#
# Uses ../shared/tools/autobahn/run.sh (installs the suite in its own venv).
# The server runs with --heartbeat 3600: a heartbeat ping arriving in the
# middle of a case is legal but makes the case's event list differ.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUN="$ROOT/../shared/tools/autobahn/run.sh"
[ -x "$RUN" ] || [ -f "$RUN" ] || { echo "autobahn.sh: $RUN not found (shared/ must sit beside the checkout)" >&2; exit 2; }
OUT="$ROOT/target/autobahn"
rm -rf "$OUT"
mkdir -p "$OUT"

cargo build --release --quiet
LOG="$OUT/server.log"
target/release/pushwire --listen 127.0.0.1:0 --heartbeat 3600 --log-level warn 2>"$LOG" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q 'listening on http://' "$LOG" && break
  sleep 0.05
done
ADDR=$(grep -o 'listening on http://[^/]*' "$LOG" | head -1 | sed 's|listening on http://||')
[ -n "$ADDR" ] || { echo "autobahn.sh: the server did not start:" >&2; cat "$LOG" >&2; exit 2; }
PORT=${ADDR##*:}

# 12.* and 13.* are permessage-deflate, which this build does not offer.
AUTOBAHN_NO_DEFLATE=1 bash "$RUN" 127.0.0.1 "$PORT" "$OUT/report" || true
python3 "$ROOT/scripts/autobahn_compare.py" "$OUT/report/index.json" "$ROOT/tests/autobahn/expected.json" "$@"
