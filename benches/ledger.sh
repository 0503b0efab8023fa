#!/usr/bin/env bash
# Ledger benchmarks: seeds a large ledger and times whole `gencost` processes
# against it, with the sqlite3 shell running the same GROUP BY as a baseline
# in the same script. Prints the median of RUNS runs and the peak memory.
#
#   benches/ledger.sh                                    # SQLite, 1,000,000 entries
#   GENCOST_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test benches/ledger.sh
#
# ENTRIES (default 1000000), RUNS (default 5), SEED_RUNS (SQLite seeding runs,
# default 1), BENCH_DIR (default /tmp/gencost-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES=${ENTRIES:-1000000}
RUNS=${RUNS:-5}
SEED_RUNS=${SEED_RUNS:-1}
DIR=${BENCH_DIR:-/tmp/gencost-bench}
PG_ADMIN=${GENCOST_BENCH_POSTGRES_URL:-}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example seed
G=target/release/gencost
SEED=target/release/examples/seed

# median of the first column / max of the second, over the runs in $DIR/runs
report() {
    local label=$1
    local secs kb
    secs=$(cut -d' ' -f1 "$DIR/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    kb=$(cut -d' ' -f2 "$DIR/runs" | sort -n | tail -1)
    printf '%-58s median %7.3f s   peak %6.1f MB   (%s runs)\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" "$(wc -l < "$DIR/runs")"
}

# measure LABEL RUNS COMMAND...: times a whole process RUNS times.
measure() {
    local label=$1 runs=$2
    shift 2
    : > "$DIR/runs"
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" > "$DIR/out"
        cat "$DIR/time" >> "$DIR/runs"
    done
    report "$label"
}

# two_writers LABEL URL: two processes log 5,000 entries each, one
# transaction per entry, at the same time; then the chain is verified.
two_writers() {
    local label=$1 url=$2 start end
    start=$(date +%s.%N)
    "$SEED" --entries 5000 --batch 1 --seed 1 --database "$url" > /dev/null &
    "$SEED" --entries 5000 --batch 1 --seed 2 --database "$url" > /dev/null &
    wait
    end=$(date +%s.%N)
    printf '%-58s %7.3f s   %s\n' "$label" "$(echo "$end - $start" | bc -l)" "$("$G" --database "$url" verify)"
}

GROUP_BY="SELECT project, cost_currency, CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT), COUNT(*), COUNT(*) - COUNT(cost_micros) FROM entries WHERE is_void = 0 GROUP BY project, cost_currency"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $ENTRIES entries"

# --- SQLite ---------------------------------------------------------------
DB="$DIR/ledger.db"
# Each seeding run starts from no file.
measure "sqlite: seed $ENTRIES entries" "$SEED_RUNS" bash -c \
    'rm -f "$0" "$0-wal" "$0-shm"; exec "$1" --entries "$2" --database "sqlite://$0"' "$DB" "$SEED" "$ENTRIES"
export GENCOST_DATABASE="sqlite://$DB"
"$G" total --by project --json > /dev/null   # warm the page cache once
measure "sqlite: gencost total --by project --json" "$RUNS" "$G" total --by project --json
measure "sqlite: sqlite3 shell, the same GROUP BY (baseline)" "$RUNS" sqlite3 "$DB" "$GROUP_BY"
measure "sqlite: gencost total --by project --json (again)" "$RUNS" "$G" total --by project --json
measure "sqlite: gencost list --limit 14 --json" "$RUNS" "$G" list --limit 14 --json
measure "sqlite: gencost verify" "$RUNS" "$G" verify

# Two processes logging 5,000 entries each, one transaction per entry.
CONC="$DIR/concurrent.db"
rm -f "$CONC" "$CONC-wal" "$CONC-shm"
"$G" --database "sqlite://$CONC" db migrate > /dev/null
two_writers "sqlite: 2 processes x 5,000 single-entry logs" "sqlite://$CONC"

# --- PostgreSQL -----------------------------------------------------------
if [ -n "$PG_ADMIN" ]; then
    base=${PG_ADMIN%/*}
    for name in gencost_bench gencost_bench_copy gencost_bench_conc; do
        psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
    done
    PG="$base/gencost_bench"
    measure "postgres: seed $ENTRIES entries" 1 "$SEED" --entries "$ENTRIES" --database "$PG"
    export GENCOST_DATABASE="$PG"
    measure "postgres: gencost total --by project --json" "$RUNS" "$G" total --by project --json
    measure "postgres: psql, the same GROUP BY (baseline)" "$RUNS" psql -q "$PG" -c "$GROUP_BY"
    measure "postgres: gencost list --limit 14 --json" "$RUNS" "$G" list --limit 14 --json
    measure "postgres: gencost verify" 1 "$G" verify
    measure "db copy: sqlite ($ENTRIES entries) -> postgres" 1 "$G" db copy --from "sqlite://$DB" --to "$base/gencost_bench_copy"
    GENCOST_DATABASE="$base/gencost_bench_copy" "$G" verify
    two_writers "postgres: 2 processes x 5,000 single-entry logs" "$base/gencost_bench_conc"
    for name in gencost_bench gencost_bench_copy gencost_bench_conc; do
        psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"
    done
fi
