#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ for FUZZ_SECONDS seconds each
# (default 60): all of them, or those named as arguments.
#
#   scripts/fuzz.sh                      # every target in fuzz/fuzz_targets/, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh request
#
# Each target starts from the seeds committed in fuzz/seeds/<target>/, copied
# into the scratch corpus fuzz/corpus/<target>/ (gitignored). The scratch
# corpus is emptied first: libFuzzer drops a seed that adds no coverage to
# what it already holds, and the seeds at the size limits (a 4 KiB chunk
# line, an 8 KiB head) add little coverage but are what mutations need to
# cross those limits. FUZZ_KEEP_CORPUS=1 keeps what earlier runs found
# instead. FUZZ_MAX_LEN (default 16384) caps an input. A crash leaves its input in
# fuzz/artifacts/<target>/ and makes this script exit non-zero once every
# target has run. Reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-...
# and shrink it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz tmin TARGET fuzz/artifacts/TARGET/crash-...
#
# cargo-fuzz needs nightly compiler flags (-Zsanitizer and friends);
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
set -euo pipefail

cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
max_len="${FUZZ_MAX_LEN:-16384}"
# Every target in fuzz/fuzz_targets/ (request, site_path, date, ...).
all_targets=()
for file in fuzz/fuzz_targets/*.rs; do
    all_targets+=("$(basename "$file" .rs)")
done
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=("${all_targets[@]}")
fi

for target in "${targets[@]}"; do
    if [[ ! -f "fuzz/fuzz_targets/$target.rs" ]]; then
        echo "fuzz.sh: no target '$target' (have: ${all_targets[*]})" >&2
        exit 2
    fi
done

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1

# Build every target first, so a compile error is reported as such and the
# fuzzing clock does not include compilation.
for target in "${targets[@]}"; do
    cargo fuzz build "$target"
done

failed=()
for target in "${targets[@]}"; do
    corpus="fuzz/corpus/$target"
    if [[ "${FUZZ_KEEP_CORPUS:-0}" != 1 ]]; then
        rm -rf "$corpus"
    fi
    mkdir -p "$corpus"
    if [[ -d "fuzz/seeds/$target" ]]; then
        cp -f "fuzz/seeds/$target"/* "$corpus"/
    fi
    echo "fuzz.sh: fuzzing $target for ${seconds}s" >&2
    if ! cargo fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -max_len="$max_len"; then
        failed+=("$target")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz.sh: crashes found in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz.sh: no crashes in ${targets[*]} (${seconds}s each)" >&2
