#!/usr/bin/env bash
# CSV import benchmark: writes a generic external-cost CSV of ROWS rows
# (about 100 bytes each), then times `gencost import` of it into a new
# ledger, and its re-import (adds nothing), with the sqlite3 shell's own
# `.import` of the same file into a plain table as a baseline in the same
# script. Prints the median of RUNS runs, the peak memory and the ratio.
#
#   benches/import.sh            # ROWS (default 1000000), RUNS (default 3), BENCH_DIR
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/gencost-import-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost
G=$PWD/target/release/gencost
CSV="$DIR/costs.csv"

awk -v rows="$ROWS" -f benches/costs.awk > "$CSV"

# Prints "median-seconds peak-MB" of RUNS runs of "$@"; `fresh` runs before each.
measure() {
    local label=$1 fresh=$2
    shift 2
    : > "$DIR/runs"
    for _ in $(seq "$RUNS"); do
        $fresh
        /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" > /dev/null
        cat "$DIR/time" >> "$DIR/runs"
    done
    local secs kb
    secs=$(cut -d' ' -f1 "$DIR/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    kb=$(cut -d' ' -f2 "$DIR/runs" | sort -n | tail -1)
    printf '%-58s median %7.3f s   peak %6.1f MB   (%s runs: %s)\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" "$RUNS" "$(cut -d' ' -f1 "$DIR/runs" | paste -sd' ')"
    echo "$secs" > "$DIR/last"
}

fresh_ledger() { rm -f "$DIR"/ledger.db*; }
fresh_shell() { rm -f "$DIR"/shell.db*; }
nothing() { :; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $ROWS rows, $(du -m "$CSV" | cut -f1) MB"
cat "$CSV" > /dev/null   # warm the page cache
export GENCOST_DATABASE="sqlite://$DIR/ledger.db"
measure "sqlite3 shell: .import --csv into a plain table (baseline)" fresh_shell \
    sqlite3 "$DIR/shell.db" -cmd ".import --csv $CSV costs" "SELECT COUNT(*) FROM costs"
shell=$(cat "$DIR/last")
measure "gencost import FILE (new ledger)" fresh_ledger "$G" import "$CSV"
import=$(cat "$DIR/last")
measure "gencost import FILE again (adds nothing)" nothing "$G" import "$CSV"
printf 'import / sqlite3 .import: %.2f×\n' "$(echo "$import/$shell" | bc -l)"
"$G" import list
"$G" verify | tail -1
