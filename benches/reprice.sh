#!/usr/bin/env bash
# Re-pricing benchmark: a ledger seeded with ENTRIES generations whose open
# estimates (about a third, plus the unpriced ones) are marked as made from
# an older catalog price, then `gencost pricing reprice` over all of them
# (whole process, median of RUNS runs, peak memory): a dry run, and the
# real one on a fresh copy of the ledger each run. Baseline in the same
# script: `verify` of the same ledger (one read of every event and entry).
#
#   benches/reprice.sh     # ENTRIES (default 290000: about 100,000 open
#                          # estimates), RUNS (default 5),
#                          # BENCH_DIR (default /tmp/gencost-reprice-bench)
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES=${ENTRIES:-290000}
RUNS=${RUNS:-5}
DIR=${BENCH_DIR:-/tmp/gencost-reprice-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example seed
G=$PWD/target/release/gencost
export GENCOST_CONFIG_DIR="$DIR/config" GENCOST_DATA_DIR="$DIR/data"

measure() {
    local label=$1
    shift
    : > "$DIR/runs"
    for _ in $(seq "$RUNS"); do
        [ -n "${BEFORE:-}" ] && eval "$BEFORE"
        /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" > "$DIR/out" 2>&1
        cat "$DIR/time" >> "$DIR/runs"
    done
    local secs kb
    secs=$(cut -d' ' -f1 "$DIR/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    kb=$(cut -d' ' -f2 "$DIR/runs" | sort -n | tail -1)
    printf '%-52s median %7.3f s   peak %6.1f MB   (%s runs: %s)\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" \
        "$RUNS" "$(cut -d' ' -f1 "$DIR/runs" | paste -sd' ')"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB"
DB="$DIR/ledger-$ENTRIES.db"
if [ ! -f "$DB" ]; then
    "$PWD/target/release/examples/seed" --entries "$ENTRIES" --database "sqlite://$DB" --catalog-version 2026-01-01
fi
export GENCOST_DATABASE="sqlite://$DIR/run.db"
cp "$DB" "$DIR/run.db"
"$G" total > /dev/null
"$G" pricing reprice --dry-run | head -1
measure "verify (baseline: one read of the ledger)" "$G" verify
measure "pricing reprice --dry-run" "$G" pricing reprice --dry-run
BEFORE='cp "$DB" "$DIR/run.db"' measure "pricing reprice (every open estimate changed)" "$G" pricing reprice
head -1 "$DIR/out"
"$G" verify
