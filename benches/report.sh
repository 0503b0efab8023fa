#!/usr/bin/env bash
# Report benchmark: seeds a ledger of ENTRIES entries and times
# `gencost report html` over all of it (whole process, median of RUNS runs,
# peak memory, file size); then, on a ledger of BIG_ENTRIES entries, the
# report scoped to one client and the groupings it draws on
# (`total --by model|deliverable|client|kind|day|week|month`, with
# `total --by project` and the sqlite3 shell's GROUP BY as baselines).
#
#   benches/report.sh            # ENTRIES (default 100000), BIG_ENTRIES (default 1000000; 0 skips),
#                                # RUNS (default 5), BENCH_DIR (default /tmp/gencost-report-bench;
#                                # ledgers seeded there by an earlier run are reused)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/seeded.sh

ENTRIES=${ENTRIES:-100000}
BIG_ENTRIES=${BIG_ENTRIES:-1000000}
RUNS=${RUNS:-5}
DIR=${BENCH_DIR:-/tmp/gencost-report-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example seed
G=$PWD/target/release/gencost
SEED=$PWD/target/release/examples/seed

# measure LABEL COMMAND...: a whole process RUNS times; median and every run.
measure() {
    local label=$1
    shift
    : > "$DIR/runs"
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" > /dev/null 2>&1
        cat "$DIR/time" >> "$DIR/runs"
    done
    local secs kb
    secs=$(cut -d' ' -f1 "$DIR/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    kb=$(cut -d' ' -f2 "$DIR/runs" | sort -n | tail -1)
    printf '%-62s median %7.3f s   peak %6.1f MB   (%s runs: %s)\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" \
        "$RUNS" "$(cut -d' ' -f1 "$DIR/runs" | paste -sd' ')"
}

# size FILE: bytes and log rows (the log's rows are the ones without </td>).
size() { printf '  %s: %s bytes (%.1f MB), %s log rows\n' "$(basename "$1")" "$(stat -c %s "$1")" \
    "$(echo "$(stat -c %s "$1") / 1000000" | bc -l)" "$(grep '^<tr' "$1" | grep -vc '</td>')"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB"

# --- ENTRIES entries: the whole ledger in one report ----------------------
DB="$DIR/ledger-$ENTRIES.db"
if [ ! -f "$DB" ]; then
    seeded_copy "$ENTRIES" "$DB"
fi
export GENCOST_DATABASE="sqlite://$DB"
"$G" total > /dev/null   # warm the page cache
echo "$ENTRIES entries"
measure "report html -o FILE (USD)" "$G" report html --tz Europe/Stockholm -o "$DIR/report.html"
size "$DIR/report.html"
measure "report html --currency SEK --markup 15 -o FILE" "$G" report html --currency SEK --markup 15 --tz Europe/Stockholm -o "$DIR/report-sek.html"
size "$DIR/report-sek.html"
measure "verify alone (the report runs it in full)" "$G" verify
measure "export csv of the same entries (baseline: one read)" "$G" export csv -o "$DIR/export.csv"
echo "  external URLs in the report: $(grep -c -i -E 'https?://' "$DIR/report.html" || true)"

# --- BIG_ENTRIES entries: one client's report, and the groupings -----------
if [ "$BIG_ENTRIES" -gt 0 ]; then
    BIG="$DIR/ledger-$BIG_ENTRIES.db"
    if [ ! -f "$BIG" ]; then
        seeded_copy "$BIG_ENTRIES" "$BIG"
    fi
    export GENCOST_DATABASE="sqlite://$BIG"
    "$G" total > /dev/null
    CLIENT="Acme Beverages"
    echo "$BIG_ENTRIES entries; '$CLIENT' has $("$G" total --client "$CLIENT" --json | grep -m1 '"count"' | tr -dc 0-9) of them"
    measure "report html --client '$CLIENT' -o FILE" "$G" report html --client "$CLIENT" --tz Europe/Stockholm -o "$DIR/report-client.html"
    size "$DIR/report-client.html"
    measure "verify alone ($BIG_ENTRIES entries)" "$G" verify
    measure "export csv --client '$CLIENT' (baseline: one read)" "$G" export csv --client "$CLIENT" -o "$DIR/export-client.csv"
    for by in project model deliverable client kind day week month; do
        measure "total --by $by --json" "$G" total --by "$by" --json
    done
    measure "sqlite3 shell: GROUP BY model (baseline)" sqlite3 "$BIG" \
        "SELECT model, cost_currency, day, SUM(cost_micros), COUNT(*) FROM entries WHERE is_void = 0 AND charged = 1 GROUP BY model, cost_currency, day"
fi
