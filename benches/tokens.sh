#!/usr/bin/env bash
# Wrong tokens get 401 in the same time however close they are: REQUESTS
# (default 5000) requests each with a token wrong in its first byte, in its
# last byte, and half its length, interleaved, against `gencost serve
# --token` on loopback (examples/load --token-timing). The comparison is
# constant-time by construction (`subtle`); this measures the whole answer.
#
#   benches/tokens.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-5000}
DIR=${BENCH_DIR:-/tmp/gencost-token-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin gencost --example load
G=$PWD/target/release/gencost
TOKEN=correct-horse-battery-staple-0123456789
rm -f "$DIR/ledger.db"*
"$G" --database "$DIR/ledger.db" serve --addr 127.0.0.1:0 --token "$TOKEN" > "$DIR/serve.out" 2> "$DIR/serve.err" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$DIR/serve.out" ] && break; sleep 0.1; done
URL=$(head -1 "$DIR/serve.out" | awk '{print $3}')
target/release/examples/load --url "$URL" --token-timing "$TOKEN" --runs "$REQUESTS"
