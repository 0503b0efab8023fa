#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 30) from its kept corpus;
# inputs that reach new code go to fuzz/new/TARGET (merge them into the
# corpus with `cargo fuzz cmin` when worth keeping), and a crash fails the
# run (its input lands in fuzz/artifacts/TARGET/).
#
#   fuzz/run.sh [SECONDS]       (needs `cargo install cargo-fuzz`)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-30}
# cargo fuzz builds with sanitizer flags only a nightly compiler takes;
# RUSTC_BOOTSTRAP lets this machine's stable compiler take them.
export RUSTC_BOOTSTRAP=1
for target in import_csv ecb_rates pricing_file api_log_body; do
    echo "== $target (${SECONDS_EACH} s)"
    mkdir -p "fuzz/new/$target"
    cargo fuzz run "$target" "fuzz/new/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$SECONDS_EACH" -max_len=16384 -print_final_stats=1 2>&1 |
        grep -E "^(stat::number_of_executed_units|stat::new_units_added|==[0-9]+==ERROR|SUMMARY|thread '.*' panicked)|Done [0-9]+ runs" || true
    # A crash, leak, timeout or out-of-memory leaves its input here.
    if [ -n "$(ls -A "fuzz/artifacts/$target" 2>/dev/null)" ]; then
        echo "fuzz target $target failed; the input is in fuzz/artifacts/$target" >&2
        exit 1
    fi
done
