#!/usr/bin/env bash
# Server benchmark: `gencost serve` on SQLite.
#  1. CLIENTS (default 16) concurrent clients post generations for DURATION
#     (default 10) to a server on a new ledger; entries/s and latency
#     percentiles (examples/load), every 201 looked up again, `verify`, and
#     the server's peak resident memory. Repeated RUNS times (default 3).
#  2. On a ledger of ENTRIES (default 1000000) entries seeded by the `seed`
#     example (reused from BENCH_DIR when an earlier run made it): the read
#     requests the panel makes, each timed 20 times one after another.
#  (The fal proxy's overhead is measured by benches/fal.sh.)
#
#   benches/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/seeded.sh

CLIENTS=${CLIENTS:-16}
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
ENTRIES=${ENTRIES:-1000000}
DIR=${BENCH_DIR:-/tmp/gencost-serve-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example seed --example load
G=$PWD/target/release/gencost
LOAD=$PWD/target/release/examples/load

# start LEDGER: a server on a free port; sets URL and PID.
start() {
    "$G" --database "$1" serve --addr 127.0.0.1:0 > "$DIR/serve.out" 2> "$DIR/serve.err" &
    PID=$!
    for _ in $(seq 100); do [ -s "$DIR/serve.out" ] && break; sleep 0.1; done
    URL=$(head -1 "$DIR/serve.out" | awk '{print $3}')
}

export GENCOST_CONFIG_DIR=$DIR/config GENCOST_DATA_DIR=$DIR
echo "== $CLIENTS clients posting for $DURATION s, $RUNS runs (SQLite) =="
for run in $(seq "$RUNS"); do
    rm -f "$DIR/writes.db"*
    start "$DIR/writes.db"
    "$LOAD" --url "$URL" --clients "$CLIENTS" --seconds "$DURATION"
    echo "server peak memory: $(grep VmHWM /proc/$PID/status | awk '{printf "%.1f MB", $2/1024}')"
    kill "$PID"; wait "$PID" 2>/dev/null || true
    "$G" --database "$DIR/writes.db" verify
done

echo "== reads on a ledger of $ENTRIES entries =="
if [ ! -f "$DIR/big-$ENTRIES.db" ]; then
    seeded_copy "$ENTRIES" "$DIR/big-$ENTRIES.db"
fi
start "$DIR/big-$ENTRIES.db"
for path in "/api/v1/entries?limit=14" "/" "/panel/history?limit=4&currency=USD" \
    "/panel/summary?currency=USD" "/api/v1/totals" "/api/v1/totals?by=project" \
    "/api/v1/totals?by=project&currency=SEK"; do
    "$LOAD" --url "$URL" --get "$path" --runs 20
done
echo "server peak memory: $(grep VmHWM /proc/$PID/status | awk '{printf "%.1f MB", $2/1024}')"
kill "$PID"; wait "$PID" 2>/dev/null || true
