#!/usr/bin/env bash
# fal benchmark, against a stand-in for fal on loopback (examples/load
# --fake-fal: submits answer a new request id, result fetches one billable
# unit), RUNS times (default 3):
#  1. The proxy's overhead: 1,000 queue submits straight to the stand-in and
#     through `gencost serve`'s proxy, alternating; through the proxy each
#     one also logs a pending generation (a ledger write).
#  2. `gencost reconcile` of OPEN (default 10000) open fal runs on a new
#     SQLite ledger: every result re-fetched (16 at once) and settled.
#
#   benches/fal.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
OPEN=${OPEN:-10000}
DIR=${BENCH_DIR:-/tmp/gencost-fal-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example load
G=$PWD/target/release/gencost
LOAD=$PWD/target/release/examples/load

"$LOAD" --url unused --fake-fal > "$DIR/fake.out" &
FAKE_PID=$!
trap 'kill $FAKE_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$DIR/fake.out" ] && break; sleep 0.1; done
FAKE=$(head -1 "$DIR/fake.out")

# start LEDGER: a server with the proxy on a free port; sets URL and PID.
start() {
    FAL_KEY=bench-key "$G" --database "$1" serve --addr 127.0.0.1:0 --fal-upstream "$FAKE" > "$DIR/serve.out" 2> "$DIR/serve.err" &
    PID=$!
    for _ in $(seq 100); do [ -s "$DIR/serve.out" ] && break; sleep 0.1; done
    URL=$(head -1 "$DIR/serve.out" | awk '{print $3}')
}

echo "== the fal proxy's overhead (queue submits, each logged) =="
for run in $(seq "$RUNS"); do
    rm -f "$DIR/proxy.db"*
    start "$DIR/proxy.db"
    "$LOAD" --url "$URL" --proxy-overhead "$FAKE" --runs 1000
    kill "$PID"; wait "$PID" 2>/dev/null || true
done

echo "== reconcile of $OPEN open fal runs =="
for run in $(seq "$RUNS"); do
    rm -f "$DIR/open.db"*
    start "$DIR/open.db"
    "$LOAD" --url "$URL" --seed-open-runs "$OPEN" --clients 16
    kill "$PID"; wait "$PID" 2>/dev/null || true
    started=$(date +%s.%N)
    FAL_KEY=bench-key "$G" --database "$DIR/open.db" reconcile --fal-upstream "$FAKE" --json > "$DIR/reconcile.json"
    ended=$(date +%s.%N)
    echo "run $run: reconcile $(awk -v a="$started" -v b="$ended" 'BEGIN{printf "%.2f", b-a}') s; $(tr -d '\n ' < "$DIR/reconcile.json" | cut -c1-120)"
done
