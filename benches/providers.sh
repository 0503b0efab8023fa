#!/usr/bin/env bash
# The other providers' benchmark, against a stand-in for OpenAI Images,
# Replicate, Runway and ElevenLabs on loopback (examples/load
# --fake-providers: each answer in its provider's format, each run a new
# id), RUNS times (default 3):
#  1. The proxy's overhead per provider: 1,000 calls straight to the
#     stand-in and through `gencost serve`'s /NAME/v1/... route,
#     alternating; through the proxy each call also logs its run (OpenAI
#     and ElevenLabs logged and settled from the one answer, Replicate and
#     Runway logged pending).
#  2. `gencost reconcile` of OPEN (default 10000) open Replicate predictions
#     on a new SQLite ledger: every prediction read again (16 at once) and
#     settled.
#
#   benches/providers.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
OPEN=${OPEN:-10000}
CALLS=${CALLS:-1000}
DIR=${BENCH_DIR:-/tmp/gencost-providers-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example load
G=$PWD/target/release/gencost
LOAD=$PWD/target/release/examples/load

"$LOAD" --url unused --fake-providers > "$DIR/fake.out" &
FAKE_PID=$!
trap 'kill $FAKE_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$DIR/fake.out" ] && break; sleep 0.1; done
FAKE=$(head -1 "$DIR/fake.out")
export OPENAI_API_KEY=bench-openai REPLICATE_API_TOKEN=bench-replicate \
    RUNWAYML_API_SECRET=bench-runway ELEVENLABS_API_KEY=bench-elevenlabs
UPSTREAMS=(--openai-upstream "$FAKE" --replicate-upstream "$FAKE"
    --runway-upstream "$FAKE" --elevenlabs-upstream "$FAKE")

# start LEDGER: a server with the proxies on a free port; sets URL and PID.
start() {
    "$G" --database "$1" serve --addr 127.0.0.1:0 "${UPSTREAMS[@]}" > "$DIR/serve.out" 2> "$DIR/serve.err" &
    PID=$!
    for _ in $(seq 100); do [ -s "$DIR/serve.out" ] && break; sleep 0.1; done
    URL=$(head -1 "$DIR/serve.out" | awk '{print $3}')
}

echo "== the proxy's overhead per provider (each call logged) =="
for run in $(seq "$RUNS"); do
    rm -f "$DIR/proxy.db"*
    start "$DIR/proxy.db"
    for provider in openai replicate runway elevenlabs; do
        "$LOAD" --url "$URL" --provider-overhead "$FAKE" --provider "$provider" --runs "$CALLS"
    done
    kill "$PID"; wait "$PID" 2>/dev/null || true
done

echo "== reconcile of $OPEN open Replicate predictions =="
for run in $(seq "$RUNS"); do
    rm -f "$DIR/open.db"*
    start "$DIR/open.db"
    "$LOAD" --url "$URL" --seed-open-predictions "$OPEN" --clients 16
    kill "$PID"; wait "$PID" 2>/dev/null || true
    started=$(date +%s.%N)
    "$G" --database "$DIR/open.db" reconcile --replicate-upstream "$FAKE" --json > "$DIR/reconcile.json"
    ended=$(date +%s.%N)
    echo "run $run: reconcile $(awk -v a="$started" -v b="$ended" 'BEGIN{printf "%.2f", b-a}') s; $(tr -d '\n ' < "$DIR/reconcile.json" | cut -c1-160)"
done
