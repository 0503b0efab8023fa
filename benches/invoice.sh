#!/usr/bin/env bash
# Invoice benchmark: one client's ENTRIES imported costs in one month, then
# `gencost invoice create` over all of them (whole process, median of RUNS
# runs, peak memory): drafted only (--dry-run), and issued (the entries
# locked, one event) on a fresh copy of the ledger each run; then the
# invoice's HTML and CSV. Baseline in the same script: `export csv` of the
# same entries (one read of them).
#
#   benches/invoice.sh     # ENTRIES (default 100000), RUNS (default 5),
#                          # BENCH_DIR (default /tmp/gencost-invoice-bench)
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES=${ENTRIES:-100000}
RUNS=${RUNS:-5}
DIR=${BENCH_DIR:-/tmp/gencost-invoice-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost
G=$PWD/target/release/gencost
export GENCOST_CONFIG_DIR="$DIR/config" GENCOST_DATA_DIR="$DIR/data"

# measure LABEL COMMAND...: a whole process RUNS times; median and every run.
measure() {
    local label=$1
    shift
    : > "$DIR/runs"
    for _ in $(seq "$RUNS"); do
        [ -n "${BEFORE:-}" ] && eval "$BEFORE"
        /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" > /dev/null 2>&1
        cat "$DIR/time" >> "$DIR/runs"
    done
    local secs kb
    secs=$(cut -d' ' -f1 "$DIR/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    kb=$(cut -d' ' -f2 "$DIR/runs" | sort -n | tail -1)
    printf '%-58s median %7.3f s   peak %6.1f MB   (%s runs: %s)\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" \
        "$RUNS" "$(cut -d' ' -f1 "$DIR/runs" | paste -sd' ')"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB"
DB="$DIR/ledger-$ENTRIES.db"
if [ ! -f "$DB" ]; then
    CSV="$DIR/costs-$ENTRIES.csv"
    awk -v n="$ENTRIES" 'BEGIN {
        print "date,description,amount,currency,tool,project";
        for (i = 0; i < n; i++)
            printf "2026-11-%02d,run %d,%d.%04d,USD,Midjourney,Project %d\n", i % 30 + 1, i, i % 7, i % 10000, i % 12
    }' > "$CSV"
    GENCOST_DATABASE="sqlite://$DB" "$G" import "$CSV" --client "Bench Client" > /dev/null
fi
export GENCOST_DATABASE="sqlite://$DIR/run.db"
cp "$DB" "$DIR/run.db"
"$G" total > /dev/null   # warm the page cache
echo "$ENTRIES entries of one client in 2026-11"
measure "export csv of the same entries (baseline: one read)" \
    "$G" export csv --client "Bench Client" --month 2026-11 -o "$DIR/export.csv"
measure "invoice create --dry-run (drafted, nothing locked)" \
    "$G" invoice create --client "Bench Client" --month 2026-11 --markup 15 --currency EUR --dry-run
BEFORE='cp "$DB" "$DIR/run.db"' measure "invoice create (issued: $ENTRIES entries locked)" \
    "$G" invoice create --client "Bench Client" --month 2026-11 --markup 15 --currency EUR
measure "invoice show --html" "$G" invoice show INV-2026-0001 --html -o "$DIR/invoice.html"
measure "invoice show --csv" "$G" invoice show INV-2026-0001 --csv -o "$DIR/invoice.csv"
measure "verify (the invoice tables checked too)" "$G" verify
printf '  invoice.html %s bytes, invoice.csv %s lines\n' "$(stat -c %s "$DIR/invoice.html")" "$(wc -l < "$DIR/invoice.csv")"
