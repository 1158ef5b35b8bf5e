#!/usr/bin/env bash
# The test command. On a fresh Debian machine (root, package registries
# reachable) it installs what the tests need, idempotently, then runs every
# test: formatting, lints, the sans-IO layering rule, unit tests, integration
# tests over real sockets, Python SSE clients (httpx-sse), browser tests in Chromium, the Autobahn|Testsuite
# compared with the expected results, and the fuzz targets.
# Every step runs even after one fails; the exit status is non-zero if any did.
#
#   scripts/test.sh                 everything
#   FUZZ_SECONDS=60 scripts/test.sh longer fuzzing (default 20 s per target)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive
export CARGO_TERM_COLOR=never
export FUZZ_SECONDS="${FUZZ_SECONDS:-20}"

passed=0
failed=0
failures=()
step() {
  local name="$1"
  shift
  echo
  echo "==> $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "==> $name: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "==> $name: FAILED ($((SECONDS - start)) s)"
  fi
}

# curl is a client the integration tests use; procps gives `ps` for debugging.
system_packages() {
  local missing=()
  command -v curl >/dev/null || missing+=(curl)
  [ ${#missing[@]} -eq 0 ] && return 0
  apt-get update -q && apt-get install -y -q "${missing[@]}"
}

rust_components() {
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
}

# STYLE.md: the protocols are sans-IO. pushwire-proto holds them, and the
# compiler holds the rule: mio is not among its dependencies (checked here,
# so that none brings it in), and proto/clippy.toml makes std's sockets,
# files and clocks an error in the clippy step.
layering() {
  local io='use mio|mio::|std::net::(Tcp|Udp)|std::fs|Instant::now|SystemTime::now'
  local bad
  bad=$(cargo tree -p pushwire-proto -e normal --prefix none | grep -E '^(mio|socket2|tokio|polling) ')
  if [ -n "$bad" ]; then
    echo "pushwire-proto depends on an I/O crate:"; echo "$bad"; return 1
  fi
  # pushwire-load: its wire formats are pushwire-proto's (held above); its
  # payload, histogram, plot and JSON code are sans-IO too.
  bad=$(grep -rnE "$io|std::io" load/src/{payload,hist,svg,report}.rs \
        | grep -vE ':\s*//')
  if [ -n "$bad" ]; then
    echo "I/O or clock in pushwire-load's sans-IO modules:"; echo "$bad"; return 1
  fi
}

step "system packages" system_packages
step "rust components" rust_components
step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
step "sans-IO layering" layering
step "cargo build" cargo build --workspace
step "cargo test" cargo test --workspace
step "python clients (httpx-sse)" scripts/python-clients.sh
step "browser dependencies" scripts/browser-deps.sh
step "browser tests" npm --prefix tests/browser test
step "autobahn (WebSocket conformance, cases 1-10)" scripts/autobahn.sh
step "fuzz (${FUZZ_SECONDS} s per target)" scripts/fuzz.sh

echo
if [ "$failed" -gt 0 ]; then
  echo "failed steps: ${failures[*]}"
fi
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
