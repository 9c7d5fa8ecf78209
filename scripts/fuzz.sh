#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (nightly + cargo-fuzz; not part of
# scripts/test.sh, whose CI is stable-only: the stable suite replays the corpus instead).
#
#   bash scripts/fuzz.sh [seconds-per-target] [target...]     (default: 60 s, every target)
#
# Each target starts from its checked-in corpus (fuzz/corpus/<target>, copied to a scratch
# directory so the repository's minimised corpus is not flooded) plus fuzz/regressions/<target>.
# Fails when a target crashes, leaks past the RSS limit or times out on one input; the crashing
# input is left in fuzz/artifacts/<target>/ (see fuzz/README.md for turning it into a regression).
# Prints one summary line per target: executions, coverage, features, corpus size.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cargo +nightly fuzz build
failed=()
summary=()
for target in "${targets[@]}"; do
    corpus="$work/$target"
    mkdir -p "$corpus" "artifacts/$target"
    cp -r "corpus/$target/." "$corpus/" 2>/dev/null || true
    log="$work/$target.log"
    printf '=== %s (%s s)\n' "$target" "$seconds"
    dirs=("$corpus")
    if [ -d "regressions/$target" ]; then dirs+=("regressions/$target"); fi
    status=0
    cargo +nightly fuzz run "$target" "${dirs[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
    last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
    files="$(find "$corpus" -type f | wc -l)"
    line="$(printf '%-14s %4ss  execs=%-9s cov=%-6s ft=%-6s corpus=%s' \
        "$target" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$files")"
    if [ "$status" -ne 0 ]; then
        line="$line  CRASH (exit $status)"
        failed+=("$target")
        grep -E -A1 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 || true
    fi
    echo "$line"
    summary+=("$line")
done

printf '\n=== summary\n'
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
    printf 'crashed: %s (inputs in fuzz/artifacts/<target>/)\n' "${failed[*]}"
    exit 1
fi
