#!/usr/bin/env bash
# Currency benchmarks: importing a full-size ECB historical CSV, and a total
# converted to SEK at each entry's day against the same total in USD over a
# 1,000,000-entry ledger, measured side by side in this script. Prints the
# median of RUNS runs and the peak memory.
#
#   benches/currencies.sh
#   GENCOST_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test benches/currencies.sh
#
# ENTRIES (default 1000000), RUNS (default 5), BENCH_DIR (default /tmp/gencost-bench).
# A ledger left in BENCH_DIR by an earlier run is reused when it holds ENTRIES entries.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/seeded.sh

ENTRIES=${ENTRIES:-1000000}
RUNS=${RUNS:-5}
DIR=${BENCH_DIR:-/tmp/gencost-bench}
PG_ADMIN=${GENCOST_BENCH_POSTGRES_URL:-}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example seed --example ecb_hist
G=target/release/gencost
SEED=target/release/examples/seed

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure LABEL COMMAND...: RUNS whole processes; prints median and peak; sets LAST.
measure() {
    local label=$1
    shift
    : > "$DIR/runs"
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" > /dev/null
        cat "$DIR/time" >> "$DIR/runs"
    done
    LAST=$(cut -d' ' -f1 "$DIR/runs" | median)
    local kb
    kb=$(cut -d' ' -f2 "$DIR/runs" | sort -n | tail -1)
    printf '%-62s median %7.3f s   peak %6.1f MB   (%s runs)\n' "$label" "$LAST" "$(echo "$kb/1024" | bc -l)" "$RUNS"
}

# usd_vs_sek LABEL: the USD and the SEK total, alternating, then their ratio.
usd_vs_sek() {
    local label=$1 usd sek
    : > "$DIR/usd"; : > "$DIR/sek"
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f '%e' -a -o "$DIR/usd" "$G" total --by project --json > /dev/null
        /usr/bin/time -f '%e' -a -o "$DIR/sek" "$G" total --by project --currency SEK --json > /dev/null
    done
    usd=$(median < "$DIR/usd")
    sek=$(median < "$DIR/sek")
    printf '%-62s USD %6.3f s   SEK %6.3f s   SEK/USD %.2f   (median of %s)\n' "$label" "$usd" "$sek" "$(echo "$sek / $usd" | bc -l)" "$RUNS"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $ENTRIES entries"

HIST="$DIR/eurofxref-hist.csv"
target/release/examples/ecb_hist --out "$HIST" 2> /dev/null
echo "ECB-format historical CSV: $(($(wc -l < "$HIST") - 1)) days x 41 currencies, $(du -h "$HIST" | cut -f1)"

# --- rates import -----------------------------------------------------------
: > "$DIR/runs"
for _ in $(seq "$RUNS"); do
    rm -f "$DIR/rates.db" "$DIR/rates.db-wal" "$DIR/rates.db-shm"
    "$G" --database "sqlite://$DIR/rates.db" db migrate > /dev/null   # schema first, not timed
    /usr/bin/time -f '%e %M' -a -o "$DIR/runs" "$G" --database "sqlite://$DIR/rates.db" rates import "$HIST" > /dev/null
done
printf '%-62s median %7.3f s   (%s runs)\n' "sqlite: rates import, full historical CSV (new ledger)" "$(cut -d' ' -f1 "$DIR/runs" | median)" "$RUNS"
measure "sqlite: rates import, the same file again (no changes)" "$G" --database "sqlite://$DIR/rates.db" rates import "$HIST"

# --- totals in SEK against USD ------------------------------------------------
DB="$DIR/ledger.db"
if [ "$("$G" --database "sqlite://$DB" db info --json 2> /dev/null | sed -n 's/.*"entries": \([0-9]*\).*/\1/p')" != "$ENTRIES" ]; then
    seeded_copy "$ENTRIES" "$DB"
fi
export GENCOST_DATABASE="sqlite://$DB"
"$G" rates import "$HIST" > /dev/null
"$G" total --by project --currency SEK --json > /dev/null   # warm the page cache once
usd_vs_sek "sqlite: total --by project --json, USD vs --currency SEK"
measure "sqlite: total --by project --currency SEK --json" "$G" total --by project --currency SEK --json

if [ -n "$PG_ADMIN" ]; then
    base=${PG_ADMIN%/*}
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS gencost_bench_fx WITH (FORCE)" -c "CREATE DATABASE gencost_bench_fx"
    PG="$base/gencost_bench_fx"
    "$SEED" --entries "$ENTRIES" --database "$PG" > /dev/null
    export GENCOST_DATABASE="$PG"
    "$G" db migrate > /dev/null   # schema first, not timed
    /usr/bin/time -f '%e' -o "$DIR/time" "$G" rates import "$HIST" > /dev/null
    printf '%-62s %7.3f s   (1 run)\n' "postgres: rates import, full historical CSV (new ledger)" "$(cat "$DIR/time")"
    measure "postgres: rates import, the same file again (no changes)" "$G" rates import "$HIST"
    "$G" total --by project --currency SEK --json > /dev/null
    usd_vs_sek "postgres: total --by project --json, USD vs --currency SEK"
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS gencost_bench_fx WITH (FORCE)"
fi
