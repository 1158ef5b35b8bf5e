#!/usr/bin/env bash
# Install what the browser tests (tests/browser) need, and nothing twice:
#   1. Chromium from Debian's packages (/usr/bin/chromium). Test tools that
#      download their own browser (`npx playwright install`) cannot work here:
#      the only network is the package registries.
#   2. node and npm (Debian's, when node is missing).
#   3. The npm packages pinned in tests/browser/package-lock.json (`npm ci`),
#      skipped when node_modules already matches the lock file.
# Exits non-zero with a message naming what could not be installed.
#
# Usage: scripts/browser-deps.sh        (then: npm --prefix tests/browser test)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/tests/browser"
CHROMIUM=/usr/bin/chromium
# The test script runs `node --test --test-concurrency=1`, which needs 20.10;
# playwright-core itself needs 20.
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=10
# Written into node_modules after a good `npm ci`: deleting node_modules
# deletes the stamp too, so the two cannot disagree.
STAMP="$DIR/node_modules/.pushwire-deps.stamp"

export DEBIAN_FRONTEND=noninteractive
# playwright-core downloads nothing on install; this keeps it that way should
# a dependency ever try.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

log() { echo "browser-deps: $*" >&2; }
die() { echo "browser-deps: ERROR: $*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot run apt-get"
  SUDO="sudo"
fi

# apt-get update only when the package lists do not know a package we need
# (a fresh machine has empty lists); never more than once per run.
APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: $*"
  local pkg
  for pkg in "$@"; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'; then
      if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update (the package lists do not know $pkg)"
        $SUDO apt-get update -q || die "apt-get update failed"
        APT_UPDATED=1
      fi
    fi
  done
  log "apt-get install $*"
  $SUDO apt-get install -y -q "$@" || die "apt-get install $* failed"
}

# --- 1. Chromium -----------------------------------------------------------
if [ ! -x "$CHROMIUM" ]; then
  apt_install chromium
  [ -x "$CHROMIUM" ] || die "package chromium installed but $CHROMIUM is missing"
fi
# Debian's /usr/bin/chromium is a shell wrapper that prints a harmless
# "[: ... unexpected operator" line on some machines: keep stderr out of it.
chromium_version="$("$CHROMIUM" --version 2>/dev/null)" \
  || die "$CHROMIUM is installed but does not run (try: $CHROMIUM --version)"
log "chromium: $chromium_version"

# --- 2. node and npm -------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
  apt_install nodejs npm
fi
command -v npm >/dev/null 2>&1 || apt_install npm
node_version="$(node --version)"   # e.g. v20.20.2
IFS=. read -r node_major node_minor _ <<<"${node_version#v}"
if [ "$node_major" -lt "$NODE_MIN_MAJOR" ] ||
   { [ "$node_major" -eq "$NODE_MIN_MAJOR" ] && [ "$node_minor" -lt "$NODE_MIN_MINOR" ]; }; then
  die "node $node_version is too old: the browser tests need >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR"
fi
log "node: $node_version, npm: $(npm --version 2>/dev/null)"

# --- 3. npm packages -------------------------------------------------------
[ -f "$DIR/package-lock.json" ] || die "$DIR/package-lock.json is missing"
# What node_modules must match: the lock file, and node's major version
# (native add-ons, should any come, are built per node ABI).
want="$(sha256sum <"$DIR/package-lock.json" | cut -d' ' -f1) node-$node_major"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] &&
   [ -f "$DIR/node_modules/playwright-core/package.json" ]; then
  log "node_modules is up to date with package-lock.json"
else
  log "npm ci in tests/browser"
  (cd "$DIR" && npm ci --no-audit --no-fund) || die "npm ci in $DIR failed"
  [ -f "$DIR/node_modules/playwright-core/package.json" ] \
    || die "npm ci succeeded but playwright-core is not in $DIR/node_modules"
  printf '%s\n' "$want" >"$STAMP"
fi

log "ready: run \`npm --prefix tests/browser test\`"
