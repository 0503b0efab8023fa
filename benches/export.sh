#!/usr/bin/env bash
# CSV export benchmark: seeds a ledger whose dates follow log order and one
# whose dates are in random order (as an import of an unsorted file leaves
# them), then times `gencost export csv` of every entry (to a file, and
# converted to SEK), with the sqlite3 shell's own CSV output of the same
# table as a baseline in the same script. Prints the median of RUNS runs
# and the peak memory. With BASE (the target/release directory of another
# build), that build's export runs too, alternating with this one's.
#
#   benches/export.sh            # ENTRIES (default 1000000), RUNS (default 3), BENCH_DIR, BASE
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/seeded.sh

ENTRIES=${ENTRIES:-1000000}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/gencost-export-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example seed
NEW=target/release

report() {
    local label=$1 runs=$2
    local secs kb
    secs=$(cut -d' ' -f1 "$runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    kb=$(cut -d' ' -f2 "$runs" | sort -n | tail -1)
    printf '%-60s median %7.3f s   peak %6.1f MB   (%s runs: %s)\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" "$(wc -l < "$runs")" "$(cut -d' ' -f1 "$runs" | paste -sd' ')"
}

# measure LABEL COMMAND-WITH-{bin}...: RUNS runs of this build's command, and
# of BASE's when set, alternating.
measure() {
    local label=$1
    shift
    local sides=(new)
    if [ -n "${BASE:-}" ]; then sides=(base new); fi
    for side in "${sides[@]}"; do : > "$DIR/$side.runs"; done
    for _ in $(seq "$RUNS"); do
        for side in "${sides[@]}"; do
            local bin=$NEW
            if [ "$side" = base ]; then bin=$BASE; fi
            local args=()
            for a in "$@"; do args+=("${a//\{bin\}/$bin}"); done
            /usr/bin/time -f '%e %M' -o "$DIR/time" "${args[@]}" > /dev/null
            cat "$DIR/time" >> "$DIR/$side.runs"
        done
    done
    for side in "${sides[@]}"; do
        local name=$label
        if [ -n "${BASE:-}" ]; then name="$label [$side]"; fi
        report "$name" "$DIR/$side.runs"
    done
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $ENTRIES entries${BASE:+; base $BASE}"
for dates in "in log order" "in random order"; do
    DB="$DIR/ledger.db"
    if [ "$dates" = "in log order" ]; then
        seeded_copy "$ENTRIES" "$DB"
    else
        seeded_copy "$ENTRIES" "$DB" --shuffled-dates
    fi
    echo "dates $dates:"
    export GENCOST_DATABASE="sqlite://$DB"
    "$NEW/gencost" total > /dev/null   # warm the page cache
    measure "gencost export csv -o FILE" "{bin}/gencost" export csv -o "$DIR/out.csv"
    echo "  $(wc -l < "$DIR/out.csv") lines, $(du -m "$DIR/out.csv" | cut -f1) MB"
    measure "gencost export csv --currency SEK -o FILE" "{bin}/gencost" export csv --currency SEK -o "$DIR/out-sek.csv"
    BASE='' measure "sqlite3 shell: .mode csv, SELECT * FROM entries (baseline)" \
        sqlite3 "$DB" -cmd ".mode csv" -cmd ".output $DIR/shell.csv" "SELECT * FROM entries ORDER BY occurred_at DESC"
done
rm -f "$DIR/ledger.db" "$DIR/ledger.db-wal" "$DIR/ledger.db-shm" "$DIR"/*.csv
