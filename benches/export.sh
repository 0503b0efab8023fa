#!/usr/bin/env bash
# CSV export benchmark: seeds a ledger, then times `gencost export csv` of
# every entry (to a file, and converted to SEK), with the sqlite3 shell's own
# CSV output of the same table as a baseline in the same script. Prints the
# median of RUNS runs and the peak memory.
#
#   benches/export.sh            # ENTRIES (default 1000000), RUNS (default 3), BENCH_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/seeded.sh

ENTRIES=${ENTRIES:-1000000}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/gencost-export-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example seed
G=target/release/gencost
DB="$DIR/ledger.db"

measure() {
    local label=$1
    shift
    : > "$DIR/runs"
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" > /dev/null
        cat "$DIR/time" >> "$DIR/runs"
    done
    local secs kb
    secs=$(cut -d' ' -f1 "$DIR/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    kb=$(cut -d' ' -f2 "$DIR/runs" | sort -n | tail -1)
    printf '%-52s median %7.3f s   peak %6.1f MB   (%s runs: %s)\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" "$RUNS" "$(cut -d' ' -f1 "$DIR/runs" | paste -sd' ')"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $ENTRIES entries"
seeded_copy "$ENTRIES" "$DB"
export GENCOST_DATABASE="sqlite://$DB"
"$G" total > /dev/null   # warm the page cache
measure "gencost export csv -o FILE" "$G" export csv -o "$DIR/out.csv"
echo "  $(wc -l < "$DIR/out.csv") lines, $(du -m "$DIR/out.csv" | cut -f1) MB"
measure "gencost export csv --currency SEK -o FILE" "$G" export csv --currency SEK -o "$DIR/out-sek.csv"
measure "sqlite3 shell: .mode csv, SELECT * FROM entries (baseline)" \
    sqlite3 "$DB" -cmd ".mode csv" -cmd ".output $DIR/shell.csv" "SELECT * FROM entries ORDER BY occurred_at DESC"
