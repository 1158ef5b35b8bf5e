#!/usr/bin/env bash
# Python clients we did not write (tests/python): httpx-sse against the real
# binary. Installs them, idempotently, into a venv of their own
# (target/python-venv), the way autobahn.sh's runner does, then runs every
# test_*.py there.
#
#   scripts/python-clients.sh             all of them
#   scripts/python-clients.sh -k Retry    unittest's own flags pass through
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/target/python-venv"
REQ="$ROOT/tests/python/requirements.txt"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" || {
    # Debian splits venv out of python3.
    apt-get update -q && apt-get install -y -q python3-venv && python3 -m venv "$VENV"
  }
fi
want=$(sha256sum "$REQ" | cut -c1-16)
if [ "$(cat "$VENV/.stamp" 2>/dev/null || true)" != "$want" ]; then
  "$VENV/bin/python" -m pip install -q -r "$REQ"
  echo "$want" >"$VENV/.stamp"
fi

cargo build --quiet --bin pushwire
export PUSHWIRE_BIN="${PUSHWIRE_BIN:-$ROOT/target/debug/pushwire}"
cd tests/python
exec "$VENV/bin/python" -m unittest discover -p 'test_*.py' -v "$@"
